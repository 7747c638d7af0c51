//! The command interpreter: one command APDU in, one response APDU out, on plain data.
//!
//! Short APDUs only, as the real card over NFC:
//! - `00 A4 04 0C|00 Lc AID` SELECT by AID: selects the application, forgets the current
//!   EF and every verified PIN (even when re-selecting the same application);
//! - `00 A4 02 0C|00 02 FID` SELECT EF of the current application;
//! - `00 B0 off_hi off_lo Le` READ BINARY of the current EF (Le `00` = 256);
//! - `00 20 00 80 [Lc PIN]` VERIFY the PIN of the current PIN EF;
//! - `80 2A 00 80 Lc DigestInfo [00]` COMPUTE DIGITAL SIGNATURE with the current key EF.
//!
//! A failing command changes nothing, except a wrong PIN, which spends a try and forgets
//! that PIN's verification.

use rsa::Pkcs1v15Sign;

use crate::files::{
    Application, CardPin, CardState, FileBody, PIN_MAX_TRIES, SW_CLA_NOT_SUPPORTED,
    SW_FILE_NOT_FOUND, SW_INS_NOT_SUPPORTED, SW_NO_CURRENT_EF, SW_OFFSET_OUTSIDE_EF, SW_OK,
    SW_PIN_BLOCKED, SW_SECURITY_NOT_SATISFIED, SW_WRONG_DATA, SW_WRONG_LENGTH, SW_WRONG_P1P2,
    sw_tries_left,
};

/// Answers one command APDU on a powered card: response data then SW1 SW2.
pub(crate) fn respond(apps: &[Application], state: &mut CardState, command: &[u8]) -> Vec<u8> {
    let [cla, ins, p1, p2, body @ ..] = command else {
        return SW_WRONG_LENGTH.to_vec();
    };
    match (*cla, *ins) {
        (0x00, 0xA4) => select(apps, state, *p1, *p2, body).to_vec(),
        (0x00, 0xB0) => read_binary(apps, state, *p1, *p2, body),
        (0x00, 0x20) => verify(apps, state, *p1, *p2, body).to_vec(),
        (0x80, 0x2A) => compute_signature(apps, state, *p1, *p2, body),
        (0x00, _) => SW_INS_NOT_SUPPORTED.to_vec(),
        _ => SW_CLA_NOT_SUPPORTED.to_vec(),
    }
}

/// The data field of a case 3 (`Lc data`) or case 4 (`Lc data Le`) short APDU body.
fn command_data(body: &[u8]) -> Option<&[u8]> {
    let (&lc, rest) = body.split_first()?;
    let lc = usize::from(lc);
    (lc != 0 && (rest.len() == lc || rest.len() == lc + 1)).then(|| &rest[..lc])
}

fn current_file<'a>(apps: &'a [Application], state: &CardState) -> Option<&'a FileBody> {
    let (application, file) = (state.application?, state.file?);
    Some(&apps[application].files[file].body)
}

fn select(apps: &[Application], state: &mut CardState, p1: u8, p2: u8, body: &[u8]) -> [u8; 2] {
    let Some(name) = command_data(body) else {
        return SW_WRONG_LENGTH;
    };
    // P2 0C: no response data; 00: return FCI, which this card does not model.
    if !matches!(p2, 0x0C | 0x00) {
        return SW_WRONG_P1P2;
    }
    match p1 {
        0x04 => match apps.iter().position(|a| a.aid == name) {
            Some(index) => {
                state.application = Some(index);
                state.file = None;
                state.verified = [false; 2];
                SW_OK
            }
            None => SW_FILE_NOT_FOUND,
        },
        0x02 => {
            let Ok(fid) = <[u8; 2]>::try_from(name) else {
                return SW_WRONG_LENGTH;
            };
            let file = state
                .application
                .and_then(|a| apps[a].files.iter().position(|f| f.id == fid));
            match file {
                Some(index) => {
                    state.file = Some(index);
                    SW_OK
                }
                None => SW_FILE_NOT_FOUND,
            }
        }
        _ => SW_WRONG_P1P2,
    }
}

fn read_binary(apps: &[Application], state: &CardState, p1: u8, p2: u8, body: &[u8]) -> Vec<u8> {
    // Case 2 short APDU: exactly one Le byte.
    let [le] = body else {
        return SW_WRONG_LENGTH.to_vec();
    };
    if p1 & 0x80 != 0 {
        // Short-EF addressing is not modelled.
        return SW_WRONG_P1P2.to_vec();
    }
    let content = match current_file(apps, state) {
        None => return SW_NO_CURRENT_EF.to_vec(),
        // PINs and keys are never readable, whatever was verified.
        Some(FileBody::Pin { .. } | FileBody::SigningKey(_)) => {
            return SW_NO_CURRENT_EF.to_vec();
        }
        Some(FileBody::Binary {
            read_requires: Some(pin),
            ..
        }) if !state.verified[pin.index()] => return SW_SECURITY_NOT_SATISFIED.to_vec(),
        Some(FileBody::Binary { content, .. }) => content,
    };
    let offset = usize::from(u16::from_be_bytes([p1, p2]));
    if offset >= content.len() {
        return SW_OFFSET_OUTSIDE_EF.to_vec();
    }
    let le = if *le == 0 { 256 } else { usize::from(*le) };
    let end = content.len().min(offset + le);
    let mut response = content[offset..end].to_vec();
    response.extend_from_slice(&SW_OK);
    response
}

/// VERIFY. Without data it reports the PIN's state and spends nothing. A PIN that is not
/// exactly four ASCII digits is malformed input (`6A 80`, or `67 00` for a length that
/// contradicts Lc) and spends no try: the real card's behaviour for such input is not
/// public, and a test card should not punish a client's encoding bug.
fn verify(apps: &[Application], state: &mut CardState, p1: u8, p2: u8, body: &[u8]) -> [u8; 2] {
    if (p1, p2) != (0x00, 0x80) {
        return SW_WRONG_P1P2;
    }
    let Some(FileBody::Pin { pin, digits }) = current_file(apps, state) else {
        return SW_NO_CURRENT_EF;
    };
    let i = pin.index();
    if state.tries_left[i] == 0 {
        return SW_PIN_BLOCKED;
    }
    if body.is_empty() {
        return if state.verified[i] {
            SW_OK
        } else {
            sw_tries_left(state.tries_left[i])
        };
    }
    // Case 3 only: VERIFY has no response data, so no Le.
    let Some((&lc, candidate)) = body.split_first() else {
        return SW_WRONG_LENGTH;
    };
    if usize::from(lc) != candidate.len() || candidate.is_empty() {
        return SW_WRONG_LENGTH;
    }
    if candidate.len() != digits.len() || !candidate.iter().all(u8::is_ascii_digit) {
        return SW_WRONG_DATA;
    }
    // No constant-time comparison: this card guards test data only.
    if candidate == digits {
        state.tries_left[i] = PIN_MAX_TRIES;
        state.verified[i] = true;
        SW_OK
    } else {
        state.tries_left[i] -= 1;
        state.verified[i] = false;
        sw_tries_left(state.tries_left[i])
    }
}

/// COMPUTE DIGITAL SIGNATURE: RSASSA-PKCS1-v1_5 over the DigestInfo the client built;
/// the card adds the padding only.
fn compute_signature(
    apps: &[Application],
    state: &CardState,
    p1: u8,
    p2: u8,
    body: &[u8],
) -> Vec<u8> {
    if (p1, p2) != (0x00, 0x80) {
        return SW_WRONG_P1P2.to_vec();
    }
    let Some(FileBody::SigningKey(key)) = current_file(apps, state) else {
        return SW_NO_CURRENT_EF.to_vec();
    };
    if !state.verified[CardPin::UserAuthentication.index()] {
        return SW_SECURITY_NOT_SATISFIED.to_vec();
    }
    let Some(digest_info) = command_data(body) else {
        return SW_WRONG_LENGTH.to_vec();
    };
    // Fails only for input too long for the modulus (more than k - 11 bytes).
    match key.sign(Pkcs1v15Sign::new_unprefixed(), digest_info) {
        Ok(mut signature) => {
            signature.extend_from_slice(&SW_OK);
            signature
        }
        Err(_) => SW_WRONG_LENGTH.to_vec(),
    }
}
