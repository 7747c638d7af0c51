//! Running commands over a [`CardTransport`]: one command/response exchange with the
//! ISO 7816-4 transport-level fix-ups, and the chunked read of a TLV-encoded EF.
//!
//! - `61 xx` (more data available): GET RESPONSE is sent until the card answers 9000,
//!   and the pieces are concatenated, bounded by [`MAX_RESPONSE_LEN`].
//! - `6C xx` (wrong Le): the same command is sent once more with Le = xx.
//!
//! Only INS and status words are logged, never command or response data (a PIN, the
//! patient's name or address travel through here).

use super::apdu::{self, ResponseApdu};
use super::error::CardError;
use super::status::StatusError;
use super::tlv;
use super::transport::CardTransport;

/// Most response bytes accepted from one command, GET RESPONSE pieces included.
pub(crate) const MAX_RESPONSE_LEN: usize = 8 * 1024;
/// Most GET RESPONSE rounds after one command.
const MAX_GET_RESPONSE_ROUNDS: usize = 32;
/// READ BINARY chunk: below 256 so every reader and every card accepts it.
pub(crate) const READ_CHUNK: usize = 0xF0;

/// One command/response exchange: the response data on 9000, a typed error otherwise.
/// Follows `61 xx` with GET RESPONSE and retries once with the right Le on `6C xx`.
pub(crate) fn exchange(
    transport: &dyn CardTransport,
    command: Vec<u8>,
) -> Result<Vec<u8>, CardError> {
    let ins = command.get(1).copied().unwrap_or_default();
    let mut response = transmit_with_le_retry(transport, command)?;
    let mut data = Vec::new();
    for _ in 0..MAX_GET_RESPONSE_ROUNDS {
        let sw = response.sw();
        match apdu::check_status(sw) {
            Ok(()) => {
                if data.is_empty() {
                    return Ok(response.data);
                }
                append_bounded(&mut data, &response.data)?;
                return Ok(data);
            }
            Err(StatusError::MoreData { available }) => {
                append_bounded(&mut data, &response.data)?;
                tracing::trace!(
                    ins = format_args!("{ins:02X}"),
                    sw = format_args!("{sw:04X}"),
                    "fetching more response data"
                );
                response = transmit_with_le_retry(transport, apdu::get_response(available))?;
            }
            Err(status) => {
                log_refusal(ins, sw);
                return Err(CardError::Status(status));
            }
        }
    }
    Err(CardError::Malformed(
        "card kept announcing more response data".into(),
    ))
}

/// Sends `command`; on `6C xx` sends it again with Le = xx, once.
fn transmit_with_le_retry(
    transport: &dyn CardTransport,
    mut command: Vec<u8>,
) -> Result<ResponseApdu, CardError> {
    let response = transmit(transport, command.clone())?;
    if response.sw1 != 0x6C {
        return Ok(response);
    }
    let Some(le) = apdu::le_position(&command) else {
        // A command without Le cannot be corrected; report the status as is.
        return Ok(response);
    };
    command[le] = response.sw2;
    let retried = transmit(transport, command)?;
    if retried.sw1 == 0x6C {
        return Err(CardError::Status(StatusError::WrongLe {
            correct: retried.sw2,
        }));
    }
    Ok(retried)
}

fn transmit(transport: &dyn CardTransport, command: Vec<u8>) -> Result<ResponseApdu, CardError> {
    ResponseApdu::parse(transport.transmit(command)?)
}

fn append_bounded(data: &mut Vec<u8>, piece: &[u8]) -> Result<(), CardError> {
    let len = data.len() + piece.len();
    if len > MAX_RESPONSE_LEN {
        return Err(CardError::Oversized {
            len,
            max: MAX_RESPONSE_LEN,
        });
    }
    data.extend_from_slice(piece);
    Ok(())
}

fn log_refusal(ins: u8, sw: u16) {
    // INS and SW only: command and response data stay out of logs.
    tracing::debug!(
        ins = format_args!("{ins:02X}"),
        sw = format_args!("{sw:04X}"),
        "card refused command"
    );
}

/// Reads the currently selected EF holding one BER-TLV object with tag `tag`.
///
/// Reads `probe_len` bytes first (enough for the header: 4 for `30 82 xx xx`, 5 for
/// `FF 20 82 xx xx`), parses the BER length (short or long form, never assumed to be one
/// byte), then reads the rest in chunks of at most 0xF0 bytes, and checks the result is
/// exactly one object of that length, at most `max_len` bytes in all.
pub(crate) fn read_tlv_file(
    transport: &dyn CardTransport,
    tag: u32,
    probe_len: u8,
    max_len: usize,
) -> Result<Vec<u8>, CardError> {
    let mut object = exchange(transport, apdu::read_binary(0, probe_len)?)?;
    if object.len() > usize::from(probe_len) {
        return Err(CardError::Malformed(
            "card returned more bytes than requested".into(),
        ));
    }
    let header = tlv::parse_header(&object, max_len)?;
    if header.tag != tag {
        return Err(CardError::Malformed(format!(
            "file holds tag {:X}, expected {tag:X}",
            header.tag
        )));
    }
    let total = header.total_len();
    object.truncate(total);
    object.reserve_exact(total - object.len());
    while object.len() < total {
        let offset = u16::try_from(object.len())
            .map_err(|_| CardError::InvalidCommand("READ BINARY offset beyond u16"))?;
        let want = READ_CHUNK.min(total - object.len());
        // `want` is at most 0xF0, so it fits in a byte.
        let chunk = exchange(transport, apdu::read_binary(offset, want as u8)?)?;
        if chunk.is_empty() {
            return Err(CardError::Malformed(
                "file ends before its announced length".into(),
            ));
        }
        if chunk.len() > want {
            return Err(CardError::Malformed(
                "card returned more bytes than requested".into(),
            ));
        }
        object.extend_from_slice(&chunk);
    }
    let (_, _, rest) = tlv::split(&object, max_len)?;
    if !rest.is_empty() || object.len() != total {
        return Err(CardError::Malformed(
            "file length does not match its header".into(),
        ));
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::scripted::{ScriptedCard, ok, sw};

    #[test]
    fn follows_more_data_with_get_response() {
        let command = apdu::read_binary(0, 0).unwrap();
        let mut first = vec![1, 2, 3];
        first.extend_from_slice(&[0x61, 0x04]);
        let mut second = vec![4, 5, 6, 7];
        second.extend_from_slice(&[0x61, 0x00]);
        let card = ScriptedCard::new(vec![
            (command.clone(), Ok(first)),
            (apdu::get_response(0x04), Ok(second)),
            (apdu::get_response(0x00), ok(&[8])),
        ]);
        assert_eq!(exchange(&card, command), Ok(vec![1, 2, 3, 4, 5, 6, 7, 8]));
        card.assert_done();

        // 61xx with no data before it (the usual T=0 case).
        let card = ScriptedCard::new(vec![
            (apdu::verify_status(), sw(0x6102)),
            (apdu::get_response(0x02), ok(&[9, 9])),
        ]);
        assert_eq!(exchange(&card, apdu::verify_status()), Ok(vec![9, 9]));
        card.assert_done();
    }

    #[test]
    fn get_response_errors_and_endless_more_data_are_reported() {
        let command = apdu::read_binary(0, 0).unwrap();
        let card = ScriptedCard::new(vec![
            (command.clone(), sw(0x6110)),
            (apdu::get_response(0x10), sw(0x6A82)),
        ]);
        assert_eq!(
            exchange(&card, command.clone()),
            Err(CardError::Status(StatusError::FileNotFound))
        );

        let mut steps = vec![(command.clone(), sw(0x6101))];
        steps.extend((0..MAX_GET_RESPONSE_ROUNDS).map(|_| (apdu::get_response(1), sw(0x6101))));
        let card = ScriptedCard::new(steps);
        assert!(matches!(
            exchange(&card, command.clone()),
            Err(CardError::Malformed(_))
        ));
        card.assert_done();

        let mut big = vec![0; MAX_RESPONSE_LEN];
        big.extend_from_slice(&[0x61, 0x01]);
        let card = ScriptedCard::new(vec![
            (command.clone(), Ok(big)),
            (apdu::get_response(1), ok(&[0])),
        ]);
        assert_eq!(
            exchange(&card, command),
            Err(CardError::Oversized {
                len: MAX_RESPONSE_LEN + 1,
                max: MAX_RESPONSE_LEN
            })
        );
    }

    #[test]
    fn retries_once_with_the_le_the_card_offers() {
        let card = ScriptedCard::new(vec![
            (apdu::read_binary(0x10, 0x20).unwrap(), sw(0x6C08)),
            (apdu::read_binary(0x10, 0x08).unwrap(), ok(&[7; 8])),
        ]);
        assert_eq!(
            exchange(&card, apdu::read_binary(0x10, 0x20).unwrap()),
            Ok(vec![7; 8])
        );
        card.assert_done();

        // Case 4: the Le byte after the data is corrected.
        let sign = apdu::compute_digital_signature(&[1, 2]).unwrap();
        let mut corrected = sign.clone();
        *corrected.last_mut().unwrap() = 0x80;
        let card = ScriptedCard::new(vec![
            (sign.clone(), sw(0x6C80)),
            (corrected, ok(&[5; 0x80])),
        ]);
        assert_eq!(exchange(&card, sign), Ok(vec![5; 0x80]));
        card.assert_done();

        // Only once; and never for a command without Le.
        let card = ScriptedCard::new(vec![
            (apdu::read_binary(0, 0x20).unwrap(), sw(0x6C08)),
            (apdu::read_binary(0, 0x08).unwrap(), sw(0x6C04)),
        ]);
        assert_eq!(
            exchange(&card, apdu::read_binary(0, 0x20).unwrap()),
            Err(CardError::Status(StatusError::WrongLe { correct: 4 }))
        );
        let card = ScriptedCard::new(vec![(apdu::select_ef([0, 6]), sw(0x6C08))]);
        assert_eq!(
            exchange(&card, apdu::select_ef([0, 6])),
            Err(CardError::Status(StatusError::WrongLe { correct: 8 }))
        );
        card.assert_done();
    }
}
