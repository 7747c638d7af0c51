//! Properties of every request body the edge decodes: decoding arbitrary bytes or
//! arbitrary JSON never panics, and whatever decodes re-encodes to JSON that decodes to
//! the same value. `fuzz/` runs the same check under libFuzzer (target `wire_requests`).

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;
use crate::disaster::DeclareDisasterRequest;
use crate::handoff::HandoffDecision;

/// Decodes `bytes` as `T`; if that works, encoding and decoding again gives the same value.
fn round_trips<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
) -> std::result::Result<(), TestCaseError> {
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        let json = serde_json::to_vec(&value).expect("a decoded request encodes");
        let again: T = serde_json::from_slice(&json).expect("an encoded request decodes");
        prop_assert_eq!(again, value);
    }
    Ok(())
}

fn every_request(bytes: &[u8]) -> std::result::Result<(), TestCaseError> {
    round_trips::<OpenIncidentRequest>(bytes)?;
    round_trips::<ConsentRequest>(bytes)?;
    round_trips::<HandoffRequest>(bytes)?;
    round_trips::<DeviceViewReport>(bytes)?;
    round_trips::<DevSignInRequest>(bytes)?;
    round_trips::<FlagRequest>(bytes)?;
    // Query parameters, not a JSON body: decoded only. (serde_json without its
    // `float_roundtrip` feature may move a huge coordinate by one ulp on the way back.)
    let _ = serde_json::from_slice::<HospitalsQuery>(bytes);
    round_trips::<DeclareDisasterRequest>(bytes)?;
    round_trips::<HandoffDecision>(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        every_request(&bytes)?;
    }

    #[test]
    fn arbitrary_json(value in crate::fixtures::request_json()) {
        every_request(value.to_string().as_bytes())?;
    }
}

/// The input `fuzz/`'s `wire_requests` stopped on: a coordinate that serde_json (without
/// `float_roundtrip`) reads back one ulp off after writing it. It decodes; query
/// parameters are not round-tripped through JSON, and every body type still is.
#[test]
fn huge_coordinate_decodes() {
    let input = b"[0\n,111111111111111152027]";
    let query: HospitalsQuery = serde_json::from_slice(input).unwrap();
    assert_eq!(query.lat, Some(0.0));
    every_request(input).unwrap();
}
