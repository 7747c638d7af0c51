//! Response APDUs from the card: split into data and status word, decode the status, and
//! read the token info and the basic facts (EF 0002) from the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobile_core::card::apdu::{ResponseApdu, check_status};
use mobile_core::card::input_support::parse_basic_facts;
use mobile_core::card::jpki::CardKind;

fuzz_target!(|data: &[u8]| {
    match ResponseApdu::parse(data.to_vec()) {
        Ok(response) => {
            assert_eq!(response.data.len() + 2, data.len());
            assert_eq!(response.sw().to_be_bytes(), data[data.len() - 2..]);
            let ok = check_status(response.sw()).is_ok();
            assert_eq!(response.clone().into_data().is_ok(), ok);
            let _ = CardKind::from_token_info(&response.data);
            let _ = parse_basic_facts(&response.data);
        }
        Err(_) => assert!(data.len() < 2),
    }
    let _ = parse_basic_facts(data);
});
