//! Delivering arrival notices to a hospital's hospital-view.

use std::time::Duration;

use myna_domain::wire::ArrivalNotice;

use crate::config::HospitalEndpoint;
use crate::{Error, Result};

/// Why a delivery failed. Carries no notice content.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Could not connect or the connection dropped.
    #[error("hospital unreachable: {0}")]
    Unreachable(String),
    /// The hospital answered with an error status.
    #[error("hospital answered {0}")]
    Rejected(u16),
}

/// HTTP client for hospital-view instances.
#[derive(Clone)]
pub struct HospitalRelay {
    client: reqwest::Client,
}

impl HospitalRelay {
    /// Builds the client (connect 3 s, whole request 10 s).
    pub fn new() -> Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Config(format!("http client: {e}")))?;
        Ok(HospitalRelay { client })
    }

    /// Sends one notice. hospital-view stores each handoff id once, so a retry is safe.
    pub async fn deliver(
        &self,
        hospital: &HospitalEndpoint,
        notice: &ArrivalNotice,
    ) -> std::result::Result<(), RelayError> {
        let response = self
            .client
            .post(format!("{}/v1/arrivals", hospital.base_url))
            .bearer_auth(&hospital.token)
            .json(notice)
            .send()
            .await
            .map_err(|e| RelayError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(RelayError::Rejected(response.status().as_u16()))
        }
    }
}
