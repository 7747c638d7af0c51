//! Basic-facts tests: the parser on byte vectors, and the reader over a scripted card.

use super::*;
use crate::card::exchange::READ_CHUNK;
use crate::card::scripted::{ScriptedCard, Step, ok, sw};

const NAME: &str = "山田 花子";
const ADDRESS: &str = "東京都千代田区千代田1-1";

fn field(tag: u32, value: &[u8]) -> Vec<u8> {
    tlv::encode(tag, value)
}

/// An EF 0002 with the given children, wrapped in `FF 20`.
fn file_with(children: &[Vec<u8>]) -> Vec<u8> {
    tlv::encode(TAG_BASIC_FACTS, &children.concat())
}

fn good_children() -> Vec<Vec<u8>> {
    vec![
        field(TAG_HEADER, &[0x01; 0x1F]),
        field(TAG_NAME, NAME.as_bytes()),
        field(TAG_ADDRESS, ADDRESS.as_bytes()),
        field(TAG_BIRTH_DATE, b"19400102"),
        field(TAG_SEX, b"2"),
    ]
}

fn expected() -> BasicFacts {
    BasicFacts {
        name: NAME.into(),
        birth_date: NaiveDate::from_ymd_opt(1940, 1, 2).unwrap(),
        sex: Sex::Female,
        address_or_insurer: AddressOrInsurer::Address(ADDRESS.into()),
    }
}

fn is_malformed(result: Result<BasicFacts, CardError>) -> bool {
    matches!(result, Err(CardError::Malformed(_)))
}

fn pin() -> Pin {
    Pin::new("4321").unwrap()
}

/// Select AP, select PIN EF, retry query answering `tries`.
fn guard_steps(tries: u16) -> Vec<Step> {
    vec![
        (apdu::select_aid(&INPUT_SUPPORT_AP_AID).unwrap(), ok(&[])),
        (apdu::select_ef(EF_INPUT_SUPPORT_PIN), ok(&[])),
        (apdu::verify_status(), sw(tries)),
    ]
}

/// The whole read of `file`: guard, VERIFY, select EF 0002, 5-byte probe, chunks.
fn read_script(file: &[u8]) -> Vec<Step> {
    let mut steps = guard_steps(0x63C3);
    steps.push((apdu::verify(pin().digits()), ok(&[])));
    steps.push((apdu::select_ef(EF_BASIC_FACTS), ok(&[])));
    let probe = file.len().min(5);
    steps.push((apdu::read_binary(0, 5).unwrap(), ok(&file[..probe])));
    let mut offset = probe;
    while offset < file.len() {
        let n = READ_CHUNK.min(file.len() - offset);
        steps.push((
            apdu::read_binary(offset as u16, n as u8).unwrap(),
            ok(&file[offset..offset + n]),
        ));
        offset += n;
    }
    steps
}

#[test]
fn parses_the_four_facts() {
    let file = file_with(&good_children());
    assert_eq!(parse_basic_facts(&file), Ok(expected()));

    // Order does not matter; unknown tags are skipped; DF21 is optional.
    let mut children = good_children();
    children.remove(0);
    children.reverse();
    children.push(field(0xDF30, b"future"));
    assert_eq!(parse_basic_facts(&file_with(&children)), Ok(expected()));

    for (code, sex) in [
        (b"1", Sex::Male),
        (b"2", Sex::Female),
        (b"9", Sex::NotApplicable),
    ] {
        let mut children = good_children();
        children[4] = field(TAG_SEX, code);
        assert_eq!(parse_basic_facts(&file_with(&children)).unwrap().sex, sex);
    }
}

#[test]
fn long_form_lengths_are_parsed() {
    // A long address pushes the outer length to the `82 xx xx` form and the address
    // itself to `81 xx`.
    let address = "東京都千代田区千代田一丁目一番一号 ".repeat(4);
    let mut children = good_children();
    children[2] = field(TAG_ADDRESS, address.as_bytes());
    let file = file_with(&children);
    assert_eq!(file[..2], [0xFF, 0x20]);
    assert_eq!(file[2], 0x82);
    let facts = parse_basic_facts(&file).unwrap();
    assert_eq!(
        facts.address_or_insurer,
        AddressOrInsurer::Address(address.clone())
    );

    // The documented example header `FF 20 82 00 9F`: a 159-byte value in long form.
    let mut children = good_children();
    // Size the DF21 header child (3 header bytes, short form) to fill 0x9F in all.
    let others: usize = children[1..].iter().map(Vec::len).sum();
    children[0] = field(TAG_HEADER, &vec![0; 0x9F - others - 3]);
    let value = children.concat();
    assert_eq!(value.len(), 0x9F);
    let mut file = vec![0xFF, 0x20, 0x82, 0x00, 0x9F];
    file.extend(&value);
    assert_eq!(parse_basic_facts(&file), Ok(expected()));
}

#[test]
fn missing_or_repeated_fields_are_malformed() {
    for missing in 1..5 {
        let mut children = good_children();
        children.remove(missing);
        assert!(
            is_malformed(parse_basic_facts(&file_with(&children))),
            "{missing}"
        );
    }
    let mut children = good_children();
    children.push(field(TAG_NAME, b"other"));
    assert!(is_malformed(parse_basic_facts(&file_with(&children))));
    let mut children = good_children();
    children[1] = field(TAG_NAME, b"   ");
    assert!(is_malformed(parse_basic_facts(&file_with(&children))));
}

#[test]
fn bad_dates_sex_codes_and_text_are_malformed() {
    let with = |index: usize, child: Vec<u8>| {
        let mut children = good_children();
        children[index] = child;
        parse_basic_facts(&file_with(&children))
    };
    for date in [
        &b"19400230"[..],
        b"19401301",
        b"19400100",
        b"1940012",
        b"194001021",
        b"1940-1-2",
        b"S150102 ",
        b"",
    ] {
        assert!(
            is_malformed(with(3, field(TAG_BIRTH_DATE, date))),
            "{date:?}"
        );
    }
    assert_eq!(
        with(3, field(TAG_BIRTH_DATE, b"20000229"))
            .unwrap()
            .birth_date,
        NaiveDate::from_ymd_opt(2000, 2, 29).unwrap()
    );
    for code in [&b"0"[..], b"3", b"M", b"12", b"", b" "] {
        assert!(is_malformed(with(4, field(TAG_SEX, code))), "{code:?}");
    }
    assert!(is_malformed(with(1, field(TAG_NAME, &[0xE5, 0xB1]))));
    assert!(is_malformed(with(2, field(TAG_ADDRESS, &[0xFF, 0xFE]))));
}

#[test]
fn truncated_and_foreign_files_are_rejected() {
    let file = file_with(&good_children());
    for cut in [0, 1, 2, 5, file.len() / 2, file.len() - 1] {
        assert!(parse_basic_facts(&file[..cut]).is_err(), "cut at {cut}");
    }
    // A child running past the end of its parent.
    let mut value = good_children().concat();
    value.extend([0xDF, 0x26, 0x05, 0x00]);
    assert!(is_malformed(parse_basic_facts(&tlv::encode(
        0xFF20, &value
    ))));
    // Trailing bytes after the object.
    let mut padded = file.clone();
    padded.push(0xFF);
    assert!(is_malformed(parse_basic_facts(&padded)));
    // Another tag.
    assert!(is_malformed(parse_basic_facts(&tlv::encode(
        0x30,
        &good_children().concat()
    ))));
}

#[test]
fn errors_never_carry_the_facts() {
    let mut children = good_children();
    children[3] = field(TAG_BIRTH_DATE, b"19409999");
    let error = parse_basic_facts(&file_with(&children)).unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("9999") && !text.contains("山田"), "{text}");
}

#[test]
fn reads_the_facts_behind_the_guard_in_chunks() {
    let address = "あ".repeat(120); // 360 bytes: the file spans two chunks after the probe
    let mut children = good_children();
    children[2] = field(TAG_ADDRESS, address.as_bytes());
    let file = file_with(&children);
    let script = read_script(&file);
    let reads = script
        .iter()
        .filter(|(command, _)| command[1] == 0xB0)
        .count();
    assert_eq!(reads, 3, "the 5-byte probe, then 0xF0 and the rest");
    let card = ScriptedCard::new(script);
    let facts = read_basic_facts(&card, &pin()).unwrap();
    assert_eq!(facts.address_or_insurer, AddressOrInsurer::Address(address));
    card.assert_done();
}

#[test]
fn short_form_file_is_read_too() {
    let file = file_with(&[
        field(TAG_NAME, b"A"),
        field(TAG_ADDRESS, b"B"),
        field(TAG_BIRTH_DATE, b"19400102"),
        field(TAG_SEX, b"1"),
    ]);
    assert!(file[2] < 0x80);
    let card = ScriptedCard::new(read_script(&file));
    assert_eq!(read_basic_facts(&card, &pin()).unwrap().name, "A");
    card.assert_done();
}

#[test]
fn guard_refuses_and_sends_no_pin() {
    // The script ends after the retry query: a VERIFY with the PIN would fail the test.
    let card = ScriptedCard::new(guard_steps(0x63C1));
    assert_eq!(
        read_basic_facts(&card, &pin()),
        Err(CardError::PinGuard { tries_left: 1 })
    );
    card.assert_done();
    let card = ScriptedCard::new(guard_steps(0x6983));
    assert_eq!(
        read_basic_facts(&card, &pin()),
        Err(CardError::Status(StatusError::PinBlocked))
    );
    card.assert_done();
}

#[test]
fn wrong_pin_reports_the_tries_left() {
    let mut steps = guard_steps(0x63C3);
    steps.push((apdu::verify(pin().digits()), sw(0x63C2)));
    let card = ScriptedCard::new(steps);
    assert_eq!(
        read_basic_facts(&card, &pin()),
        Err(CardError::Status(StatusError::WrongPin { tries_left: 2 }))
    );
    card.assert_done();
}

#[test]
fn oversized_and_truncated_files_on_the_card() {
    let mut steps = guard_steps(0x63C3);
    steps.push((apdu::verify(pin().digits()), ok(&[])));
    steps.push((apdu::select_ef(EF_BASIC_FACTS), ok(&[])));
    let mut head = steps.clone();
    head.push((
        apdu::read_binary(0, 5).unwrap(),
        ok(&[0xFF, 0x20, 0x82, 0x08, 0x00]),
    ));
    let card = ScriptedCard::new(head);
    assert_eq!(
        read_basic_facts(&card, &pin()),
        Err(CardError::Oversized {
            len: 0x800 + 5,
            max: MAX_BASIC_FACTS_LEN
        })
    );

    // The card's file ends before the announced length.
    steps.push((
        apdu::read_binary(0, 5).unwrap(),
        ok(&[0xFF, 0x20, 0x82, 0x00, 0x9F]),
    ));
    steps.push((apdu::read_binary(5, 0x9F).unwrap(), ok(&[])));
    let card = ScriptedCard::new(steps);
    assert!(is_malformed(read_basic_facts(&card, &pin())));
    card.assert_done();
}

#[test]
fn card_without_the_application_is_not_a_my_number_card() {
    let card = ScriptedCard::new(vec![(
        apdu::select_aid(&INPUT_SUPPORT_AP_AID).unwrap(),
        sw(0x6A82),
    )]);
    assert_eq!(
        basic_facts_pin_tries(&card),
        Err(CardError::NotAMyNumberCard)
    );
    let card = ScriptedCard::new(guard_steps(0x63C2));
    assert_eq!(basic_facts_pin_tries(&card), Ok(PinTries::Left(2)));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_file_parses_or_is_malformed(file in proptest::collection::vec(any::<u8>(), 0..200)) {
            // Never a panic: facts or an error.
            let _ = parse_basic_facts(&file);
        }

        #[test]
        fn mangled_good_file_never_panics(
            patches in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut file = file_with(&good_children());
            for (at, xor) in patches {
                let at = at.index(file.len());
                file[at] ^= xor;
            }
            file.truncate(cut.index(file.len() + 1));
            let _ = parse_basic_facts(&file);
        }

        #[test]
        fn facts_round_trip(
            name in "[A-Za-z山田花子太郎]{1,12}( [A-Za-z山田花子太郎]{1,12})?",
            address in "[0-9A-Za-z東京都千代田区-]{1,40}",
            days in 0i64..50_000,
            sex in prop_oneof![Just(Sex::Male), Just(Sex::Female), Just(Sex::NotApplicable)],
        ) {
            let birth_date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::TimeDelta::days(days);
            let code: &[u8] = match sex {
                Sex::Male => b"1",
                Sex::Female => b"2",
                Sex::NotApplicable => b"9",
            };
            let file = file_with(&[
                field(TAG_HEADER, &[0x01; 0x1F]),
                field(TAG_NAME, name.as_bytes()),
                field(TAG_ADDRESS, address.as_bytes()),
                field(TAG_BIRTH_DATE, birth_date.format("%Y%m%d").to_string().as_bytes()),
                field(TAG_SEX, code),
            ]);
            let facts = parse_basic_facts(&file).unwrap();
            prop_assert_eq!(facts, BasicFacts {
                name,
                birth_date,
                sex,
                address_or_insurer: AddressOrInsurer::Address(address),
            });
        }
    }
}
