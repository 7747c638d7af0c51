//! Each queued write as its call on the edge.

use myna_domain::access::IncidentId;
use serde::Serialize;

use crate::edge::{EdgeClient, EdgeError};
use crate::local::outbox::Write;

/// Sends `write` for `incident`; the edge's answer as JSON, to keep for the caller.
pub(super) async fn send(
    edge: &EdgeClient,
    incident: IncidentId,
    write: &Write,
) -> Result<String, EdgeError> {
    let json = |value: Result<_, EdgeError>| value.map(|v: serde_json::Value| v.to_string());
    match write {
        Write::OpenIncident(request) => json(edge.open_incident(request).await.map(to_value)),
        Write::Consent(request) => json(edge.record_consent(incident, request).await.map(to_value)),
        Write::Handoff(request) => json(edge.hand_off(incident, request).await.map(to_value)),
        Write::Withdraw { handoff_id } => {
            json(edge.withdraw_handoff(*handoff_id).await.map(to_value))
        }
        Write::DeviceView(report) => json(
            edge.report_device_view(incident, report)
                .await
                .map(to_value),
        ),
    }
}

fn to_value(value: impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
