//! Identifying the patient: reading the card, then the face photo, the PIN signature or
//! (in a declared disaster) the four basic facts. See [`super`]'s docs for the two card
//! ways and why the PIN path's card exchange runs where it does.

use chrono::Utc;
use myna_domain::certificate::{CardCertificate, Validity};
use myna_domain::identity::{AssuranceLevel, BasicFacts};
use myna_domain::wire::{IdentityEvidenceDto, IncidentOpened, OpenIncidentRequest};

use super::reports::{CardReading, IdentityConfirmed};
use super::scene::{Scene, parse};
use crate::card::jpki::{self, CardKind};
use crate::card::pin::Pin;
use crate::card::transport::CardTransport;
use crate::error::MobileError;
use crate::local::WriteKind;
use crate::local::outbox::Write;
use crate::progress::IncidentStep;

impl Scene {
    pub(super) fn read_card(
        &self,
        transport: &dyn CardTransport,
    ) -> Result<CardReading, MobileError> {
        self.check(&IncidentStep::CardRead)?;
        // Once identity was sent with this card (the crew's call was interrupted before the
        // step was saved), another card must not follow it under the same incident.
        if self
            .delivery
            .store()
            .live_write(self.id, WriteKind::OpenIncident)?
            .is_some()
        {
            return Err(MobileError::IllegalStep {
                from: "identity sent".into(),
                to: IncidentStep::CardRead.name().into(),
            });
        }
        if jpki::read_token_info(transport)? != CardKind::MyNumberCard {
            return Err(MobileError::NotAMyNumberCard);
        }
        let der = jpki::read_auth_certificate(transport)?;
        let certificate =
            CardCertificate::from_der(&der).map_err(|e| MobileError::CertificateUnreadable {
                detail: e.to_string(),
            })?;
        let now = Utc::now();
        let validity = certificate.validity_at(now);
        let expired = validity == Validity::Expired;
        let not_yet_valid = validity == Validity::NotYetValid;
        if expired {
            tracing::warn!(incident = %self.id, "card certificate expired; the edge decides");
        }
        if not_yet_valid {
            tracing::warn!(incident = %self.id, "card certificate not yet valid; the edge decides");
        }
        self.advance_with(IncidentStep::CardRead, |state| {
            state.certificate_der = Some(der.clone());
        })?;
        tracing::info!(incident = %self.id, "card read");
        Ok(CardReading {
            certificate_der: der,
            serial_hex: certificate.serial_hex,
            not_after: certificate.not_after.into(),
            expired,
            not_yet_valid,
        })
    }

    pub(super) async fn confirm_identity(
        &self,
        photo_matches: bool,
    ) -> Result<IdentityConfirmed, MobileError> {
        let certificate_der = self.certificate_to_identify()?;
        if !photo_matches {
            tracing::info!(incident = %self.id, "face photo not confirmed");
            return Err(MobileError::PhotoMismatch);
        }
        self.open_queued(
            IdentityEvidenceDto::card_with_photo(&certificate_der, true),
            AssuranceLevel::CardAndPhoto,
        )
        .await
    }

    pub(super) async fn identify_with_pin(
        &self,
        transport: &dyn CardTransport,
        pin: Pin,
    ) -> Result<IdentityConfirmed, MobileError> {
        let certificate_der = self.certificate_to_identify()?;
        let challenge = self.delivery.edge().identity_challenge().await?;
        let challenge_bytes =
            challenge
                .challenge()
                .map_err(|_| MobileError::EdgeResponseInvalid {
                    detail: "identity challenge is not base64".into(),
                })?;
        let signature =
            card_io(|| sign_on_the_same_card(transport, &certificate_der, &pin, &challenge_bytes))
                .inspect_err(
                    |error| tracing::info!(incident = %self.id, %error, "PIN signature not made"),
                )?;
        drop(pin);
        self.open(IdentityEvidenceDto::pin_verified(
            &certificate_der,
            challenge.challenge_id,
            &signature,
        ))
        .await
    }

    pub(super) async fn identify_by_basic_facts(
        &self,
        facts: BasicFacts,
    ) -> Result<IdentityConfirmed, MobileError> {
        self.check(&IncidentStep::Identified)?;
        self.open_queued(
            IdentityEvidenceDto::BasicFacts { facts },
            AssuranceLevel::BasicFactsOnly,
        )
        .await
    }

    pub(super) fn certificate_to_identify(&self) -> Result<Vec<u8>, MobileError> {
        let state = self.state();
        state.progress.check(&IncidentStep::Identified)?;
        state
            .certificate_der
            .clone()
            .ok_or_else(|| MobileError::IllegalStep {
                from: state.progress.step().name().into(),
                to: IncidentStep::Identified.name().into(),
            })
    }

    pub(super) async fn open_queued(
        &self,
        identity: IdentityEvidenceDto,
        expected: AssuranceLevel,
    ) -> Result<IdentityConfirmed, MobileError> {
        let request = OpenIncidentRequest {
            incident_id: self.id,
            crew_member_id: self.crew_member_id.clone(),
            identity,
        };
        // An open already queued or delivered (the call that queued it was interrupted
        // before the step was saved): finish that one, never send a second.
        let answer = match self
            .delivery
            .store()
            .live_write(self.id, WriteKind::OpenIncident)?
        {
            Some(sent) => self.delivery.settle(self.id, sent).await?,
            None => {
                self.delivery
                    .submit(self.id, Write::OpenIncident(request))
                    .await?
            }
        };
        let (assurance, queued) = match answer {
            Some(answer) => {
                let opened: IncidentOpened = parse(&answer)?;
                self.expect_same_incident(opened.incident_id)?;
                (opened.assurance, false)
            }
            None => (expected, true),
        };
        self.advance(IncidentStep::Identified)?;
        Ok(IdentityConfirmed {
            incident_id: self.incident_id(),
            assurance,
            queued,
        })
    }

    pub(super) async fn open(
        &self,
        identity: IdentityEvidenceDto,
    ) -> Result<IdentityConfirmed, MobileError> {
        let request = OpenIncidentRequest {
            incident_id: self.id,
            crew_member_id: self.crew_member_id.clone(),
            identity,
        };
        let opened = self.delivery.edge().open_incident(&request).await?;
        self.expect_same_incident(opened.incident_id)?;
        self.advance(IncidentStep::Identified)?;
        Ok(IdentityConfirmed {
            incident_id: self.incident_id(),
            assurance: opened.assurance,
            queued: false,
        })
    }
}

/// Checks the card on the reader holds `certificate_der` (the card read at the start),
/// then signs `challenge` with `pin` behind the retry guard. Nothing is sent to another
/// card but the certificate read. Blocking.
fn sign_on_the_same_card(
    transport: &dyn CardTransport,
    certificate_der: &[u8],
    pin: &Pin,
    challenge: &[u8],
) -> Result<Vec<u8>, MobileError> {
    if jpki::read_auth_certificate(transport)? != certificate_der {
        return Err(MobileError::DifferentCard);
    }
    Ok(jpki::sign_challenge(transport, pin, challenge)?)
}

/// Runs a blocking card exchange from async code. On a multi-threaded tokio runtime the
/// worker first hands its other tasks to the rest of the pool
/// ([`tokio::task::block_in_place`]; on a thread that is not a worker it runs in place);
/// on a current-thread runtime, where `block_in_place` would panic, or outside tokio, it
/// simply runs in place.
fn card_io<T>(exchange: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(exchange)
        }
        _ => exchange(),
    }
}

/// Kept beside the code rather than in `tests.rs` (owned by the incident work).
#[cfg(test)]
mod validity_tests {
    use super::*;
    use crate::card::apdu;
    use crate::card::jpki::tests::{ScriptedCard, certificate_script};
    use crate::edge::EdgeClient;
    use crate::incident::EmergencyIncident;

    fn certificate(not_before_year: i32, not_after_year: i32) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.not_before = rcgen::date_time_ymd(not_before_year, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn card(der: &[u8]) -> ScriptedCard {
        let mut token = jpki::MY_NUMBER_CARD_TOKEN.to_vec();
        token.resize(0x20, b' ');
        token.extend_from_slice(&[0x90, 0x00]);
        let mut script = vec![
            (
                apdu::select_aid(&jpki::JPKI_AP_AID).unwrap(),
                Ok(vec![0x90, 0x00]),
            ),
            (apdu::select_ef(jpki::EF_TOKEN_INFO), Ok(vec![0x90, 0x00])),
            (apdu::read_binary(0, 0x20).unwrap(), Ok(token)),
        ];
        script.extend(certificate_script(der));
        ScriptedCard::new(script)
    }

    #[test]
    fn reading_reports_expired_and_not_yet_valid_certificates() {
        let edge = EdgeClient::new("http://127.0.0.1:9".into(), "tablet-token".into()).unwrap();
        let incident = EmergencyIncident::new(edge, "crew-042".into());
        let read = |der: Vec<u8>| {
            let reading = incident.read_card(&card(&der)).unwrap();
            (reading.expired, reading.not_yet_valid)
        };
        assert_eq!(read(certificate(2020, 2099)), (false, false));
        assert_eq!(read(certificate(2020, 2021)), (true, false));
        assert_eq!(read(certificate(2098, 2099)), (false, true));
    }
}
