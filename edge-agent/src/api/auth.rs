//! Request identities for handlers: the calling tablet, a receiving hospital's
//! hospital-view, the signed-in patient, a privacy officer or an operator. The caller was
//! identified and its role checked against the route table by [`super::authz::authorize`];
//! these extractors only hand the [`Principal`] it left to the handler, typed.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use myna_domain::identity::PatientId;

use super::authz::Principal;
use super::error::AppError;
use crate::config::{DeviceRegistration, HospitalEndpoint};
use crate::state::AppState;

/// The principal [`super::authz::authorize`] identified, if any.
fn principal(parts: &Parts) -> Option<&Principal> {
    parts.extensions.get::<Principal>()
}

/// Defines an extractor for one kind of principal. Another kind is 403, none 401: the
/// route table should have refused both already, so either means the table and the
/// handler disagree, and the handler still refuses.
macro_rules! principal_extractor {
    ($(#[$doc:meta])* $name:ident($inner:ty) from $variant:ident) => {
        $(#[$doc])*
        pub struct $name(pub $inner);

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &AppState,
            ) -> Result<Self, AppError> {
                match principal(parts) {
                    Some(Principal::$variant(inner)) => Ok($name(inner.clone())),
                    Some(_) => Err(AppError::Forbidden),
                    None => Err(AppError::Unauthorized),
                }
            }
        }
    };
}

principal_extractor!(
    /// The registered tablet making the request.
    Device(DeviceRegistration) from Paramedic
);
principal_extractor!(
    /// A receiving hospital's hospital-view.
    Hospital(HospitalEndpoint) from ErStaff
);
principal_extractor!(
    /// An operator (運用担当), who declares disasters, by id.
    Operator(String) from Operator
);
principal_extractor!(
    /// A privacy officer (個人情報保護担当), by id.
    PrivacyOfficer(String) from PrivacyOfficer
);
principal_extractor!(
    /// The patient signed in to the portal.
    PortalPatient(PatientId) from Patient
);
