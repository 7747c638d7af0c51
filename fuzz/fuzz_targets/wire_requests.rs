//! Every request body the edge decodes, from arbitrary bytes: decoding never panics, and
//! whatever decodes re-encodes to JSON that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use myna_domain::disaster::DeclareDisasterRequest;
use myna_domain::handoff::HandoffDecision;
use myna_domain::wire::{
    ConsentRequest, DevSignInRequest, DeviceViewReport, FlagRequest, HandoffRequest,
    HospitalsQuery, OpenIncidentRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let json = serde_json::to_vec(&value).expect("a decoded request encodes");
        let again: T = serde_json::from_slice(&json).expect("an encoded request decodes");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<OpenIncidentRequest>(data);
    round_trip::<ConsentRequest>(data);
    round_trip::<HandoffRequest>(data);
    round_trip::<DeviceViewReport>(data);
    round_trip::<DevSignInRequest>(data);
    round_trip::<FlagRequest>(data);
    // Query parameters, not a JSON body: decoded only (serde_json without its
    // `float_roundtrip` feature may move a huge coordinate by one ulp on the way back).
    let _ = serde_json::from_slice::<HospitalsQuery>(data);
    round_trip::<DeclareDisasterRequest>(data);
    round_trip::<HandoffDecision>(data);
});
