use super::*;

#[test]
fn mobile_core_reads_exactly_the_issued_rsa_certificate() {
    let der = issued();
    let card = SoftwareCard::new(der.clone());
    assert_eq!(read_token_info(&card), Ok(CardKind::MyNumberCard));
    assert_eq!(read_auth_certificate(&card), Ok(der.clone()));

    let parsed = CardCertificate::from_der(&der).unwrap();
    assert_eq!(parsed.serial_hex, "4a01020304050607");
    assert_eq!(parsed.issuer, format!("CN={CARD_ISSUER_CN}"));
    assert_eq!(parsed.not_before.date_naive(), date(2024, 4, 1));
    assert_eq!(parsed.not_after.date_naive(), date(2029, 3, 31));

    // sha256WithRSAEncryption, a 2048-bit RSA key, and a valid signature by the CA.
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let ca_der = issuer().ca_certificate_der();
    let (_, ca) = X509Certificate::from_der(&ca_der).unwrap();
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.11"
    );
    cert.verify_signature(Some(ca.public_key())).unwrap();
    let key = PublicKey::from_public_key_der(cert.public_key().raw).unwrap();
    assert_eq!(key.size() * 8, CARD_KEY_BITS);
    assert_eq!(&key, card_key().as_public_key());
}

#[test]
fn the_ca_certificate_is_readable_without_a_pin() {
    let card = full_card();
    assert_eq!(send(&card, &apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);
    assert_eq!(send(&card, &apdu::select_ef(EF_AUTH_CA_CERTIFICATE)), SW_OK);
    let ca = issuer().ca_certificate_der();
    let mut expected = ca[..0x40].to_vec();
    expected.extend_from_slice(&SW_OK);
    assert_eq!(send(&card, &apdu::read_binary(0, 0x40).unwrap()), expected);
    assert_eq!(card.ca_certificate_der(), Some(&ca[..]));
}

#[test]
fn a_wrong_pin_spends_a_try_and_a_status_query_does_not() {
    let card = full_card();
    select_auth_pin(&card);
    assert_eq!(send(&card, &VERIFY_STATUS), [0x63, 0xC3]);
    assert_eq!(send(&card, &verify(b"0000")), [0x63, 0xC2]);
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 2);
    assert_eq!(send(&card, &VERIFY_STATUS), [0x63, 0xC2]);
    assert_eq!(send(&card, &VERIFY_STATUS), [0x63, 0xC2]);
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 2);
    // Malformed PINs spend nothing.
    assert_eq!(send(&card, &verify(b"12a4")), SW_WRONG_DATA);
    assert_eq!(send(&card, &verify(b"12345")), SW_WRONG_DATA);
    assert_eq!(
        send(&card, &[0x00, 0x20, 0x00, 0x80, 0x05, b'1']),
        SW_WRONG_LENGTH
    );
    assert_eq!(
        send(
            &card,
            &[0x00, 0x20, 0x00, 0x81, 0x04, b'1', b'2', b'3', b'4']
        ),
        SW_WRONG_P1P2
    );
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 2);
    // The right PIN restores the counter; a status query then answers 9000.
    assert_eq!(send(&card, &verify(b"1234")), SW_OK);
    assert_eq!(
        card.pin_tries_left(CardPin::UserAuthentication),
        PIN_MAX_TRIES
    );
    assert_eq!(send(&card, &VERIFY_STATUS), SW_OK);
    assert!(card.is_pin_verified(CardPin::UserAuthentication));
    // The other PIN is untouched.
    assert_eq!(card.pin_tries_left(CardPin::CardInfo), PIN_MAX_TRIES);
    assert!(!card.is_pin_verified(CardPin::CardInfo));
}

#[test]
fn three_wrong_pins_block_for_good() {
    let card = full_card();
    select_auth_pin(&card);
    assert_eq!(send(&card, &verify(b"1111")), [0x63, 0xC2]);
    assert_eq!(send(&card, &verify(b"2222")), [0x63, 0xC1]);
    assert_eq!(send(&card, &verify(b"3333")), [0x63, 0xC0]);
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 0);
    assert_eq!(send(&card, &verify(b"1234")), SW_PIN_BLOCKED);
    assert_eq!(send(&card, &VERIFY_STATUS), SW_PIN_BLOCKED);
    // Neither a reset nor a removal brings it back.
    card.reset();
    card.remove();
    card.put_back();
    select_auth_pin(&card);
    assert_eq!(send(&card, &verify(b"1234")), SW_PIN_BLOCKED);
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 0);
    // A card built blocked is blocked.
    let blocked = SoftwareCard::builder(vec![0x30, 0x00])
        .auth_pin_tries_left(0)
        .build()
        .unwrap();
    select_auth_pin(&blocked);
    assert_eq!(send(&blocked, &VERIFY_STATUS), SW_PIN_BLOCKED);
}

#[test]
fn power_reset_removal_and_reselection_forget_the_verification() {
    let card = full_card();
    let verified = |card: &SoftwareCard| {
        select_auth_pin(card);
        assert_eq!(send(card, &verify(b"1234")), SW_OK);
        assert!(card.is_pin_verified(CardPin::UserAuthentication));
    };
    verified(&card);
    card.reset();
    assert!(!card.is_pin_verified(CardPin::UserAuthentication));
    // Nothing is selected after a reset.
    assert_eq!(send(&card, &VERIFY_STATUS), SW_NO_CURRENT_EF);

    verified(&card);
    card.power_off();
    assert!(!card.is_powered());
    assert!(matches!(
        card.transmit(VERIFY_STATUS.to_vec()),
        Err(CardLinkError::Io { .. })
    ));
    card.power_on();
    select_auth_pin(&card);
    assert_eq!(send(&card, &VERIFY_STATUS), [0x63, 0xC3]);

    verified(&card);
    card.remove();
    card.put_back();
    assert!(!card.is_pin_verified(CardPin::UserAuthentication));

    // SELECT by AID, even of the same application, forgets it too.
    verified(&card);
    assert_eq!(send(&card, &apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);
    assert!(!card.is_pin_verified(CardPin::UserAuthentication));
}

#[test]
fn signing_needs_the_auth_pin_and_verifies_with_the_certificate_key() {
    let card = full_card();
    let info = digest_info(b"challenge from the edge");
    assert_eq!(send(&card, &apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);
    assert_eq!(send(&card, &apdu::select_ef(EF_AUTH_KEY)), SW_OK);
    assert_eq!(send(&card, &sign_command(&info)), SW_SECURITY_NOT_SATISFIED);
    // The card-info PIN does not open the key.
    assert_eq!(
        send(&card, &apdu::select_aid(&CARD_INFO_AP_AID).unwrap()),
        SW_OK
    );
    assert_eq!(send(&card, &apdu::select_ef(EF_CARD_INFO_PIN)), SW_OK);
    assert_eq!(send(&card, &verify(b"5678")), SW_OK);
    assert_eq!(send(&card, &apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);
    assert_eq!(send(&card, &apdu::select_ef(EF_AUTH_KEY)), SW_OK);
    assert_eq!(send(&card, &sign_command(&info)), SW_SECURITY_NOT_SATISFIED);

    select_auth_pin(&card);
    assert_eq!(send(&card, &verify(b"1234")), SW_OK);
    // Not the key EF: no signature.
    assert_eq!(send(&card, &sign_command(&info)), SW_NO_CURRENT_EF);
    assert_eq!(send(&card, &apdu::select_ef(EF_AUTH_KEY)), SW_OK);
    let response = send(&card, &sign_command(&info));
    assert_eq!(response.len(), 256 + 2);
    assert_eq!(response[256..], SW_OK);

    // Verify against the certificate's key, as a relying party would.
    let der = read_auth_certificate(&card).unwrap();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let key = PublicKey::from_public_key_der(cert.public_key().raw).unwrap();
    let hash = Sha256::digest(b"challenge from the edge");
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, &response[..256])
        .unwrap();
    let other = Sha256::digest(b"another challenge");
    assert!(
        key.verify(Pkcs1v15Sign::new::<Sha256>(), &other, &response[..256])
            .is_err()
    );
    assert_eq!(card.public_key(), Some(&key));

    // Malformed signing commands, with the key selected and the PIN verified again.
    select_auth_pin(&card);
    assert_eq!(send(&card, &verify(b"1234")), SW_OK);
    assert_eq!(send(&card, &apdu::select_ef(EF_AUTH_KEY)), SW_OK);
    assert_eq!(
        send(&card, &[0x80, 0x2A, 0x9E, 0x9A, 0x01, 0x00]),
        SW_WRONG_P1P2
    );
    assert_eq!(send(&card, &[0x80, 0x2A, 0x00, 0x80]), SW_WRONG_LENGTH);
    assert_eq!(send(&card, &sign_command(&[0x30; 246])), SW_WRONG_LENGTH);
    assert_eq!(
        send(&card, &[0x00, 0x2A, 0x00, 0x80, 0x01, 0x00]),
        SW_INS_NOT_SUPPORTED
    );
}

#[test]
fn a_card_without_a_key_has_no_ef_0017() {
    let card = SoftwareCard::new(issued());
    assert_eq!(card.public_key(), None);
    assert_eq!(send(&card, &apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);
    assert_eq!(
        send(&card, &apdu::select_ef(EF_AUTH_KEY)),
        SW_FILE_NOT_FOUND
    );
    assert_eq!(
        send(&card, &apdu::select_ef(EF_AUTH_CA_CERTIFICATE)),
        SW_FILE_NOT_FOUND
    );
    assert_eq!(
        send(&card, &apdu::select_aid(&CARD_INFO_AP_AID).unwrap()),
        SW_FILE_NOT_FOUND
    );
}

#[test]
fn basic_facts_need_the_card_info_pin() {
    let card = full_card();
    assert_eq!(
        send(&card, &apdu::select_aid(&CARD_INFO_AP_AID).unwrap()),
        SW_OK
    );
    assert_eq!(send(&card, &apdu::select_ef(EF_BASIC_FACTS)), SW_OK);
    assert_eq!(
        send(&card, &apdu::read_binary(0, 0).unwrap()),
        SW_SECURITY_NOT_SATISFIED
    );
    // The auth PIN does not open them.
    select_auth_pin(&card);
    assert_eq!(send(&card, &verify(b"1234")), SW_OK);
    assert_eq!(
        send(&card, &apdu::select_aid(&CARD_INFO_AP_AID).unwrap()),
        SW_OK
    );
    assert_eq!(send(&card, &apdu::select_ef(EF_CARD_INFO_PIN)), SW_OK);
    assert_eq!(send(&card, &verify(b"1234")), [0x63, 0xC2]);
    assert_eq!(send(&card, &verify(b"5678")), SW_OK);
    assert_eq!(send(&card, &apdu::select_ef(EF_BASIC_FACTS)), SW_OK);
    let content = read_to_end(&card, 0x20);
    assert_eq!(content[..3], [0xFF, 0x20, 0x82]);
    assert_eq!(facts::decode(&content).unwrap(), holder());
}

#[test]
fn pins_and_keys_are_never_readable() {
    let card = full_card();
    select_auth_pin(&card);
    assert_eq!(send(&card, &verify(b"1234")), SW_OK);
    for fid in [EF_AUTH_PIN, EF_AUTH_KEY] {
        assert_eq!(send(&card, &apdu::select_ef(fid)), SW_OK);
        assert_eq!(
            send(&card, &apdu::read_binary(0, 0).unwrap()),
            SW_NO_CURRENT_EF
        );
    }
    assert_eq!(
        send(&card, &apdu::select_aid(&CARD_INFO_AP_AID).unwrap()),
        SW_OK
    );
    assert_eq!(send(&card, &apdu::select_ef(EF_CARD_INFO_PIN)), SW_OK);
    assert_eq!(send(&card, &verify(b"5678")), SW_OK);
    assert_eq!(
        send(&card, &apdu::read_binary(0, 0).unwrap()),
        SW_NO_CURRENT_EF
    );
}

#[test]
fn a_removed_card_is_lost() {
    let card = SoftwareCard::new(vec![0x30, 0x03, 0x02, 0x01, 0x07]).removed();
    assert_eq!(
        card.transmit(apdu::select_aid(&JPKI_AP_AID).unwrap()),
        Err(CardLinkError::Lost)
    );
    card.put_back();
    assert_eq!(send(&card, &apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);

    // Pulled away mid-read: the third exchange fails, and so does everything after.
    card.remove_after(2);
    assert_eq!(
        read_auth_certificate(&card),
        Err(mobile_core::CardError::Link(CardLinkError::Lost))
    );
    assert!(!card.is_present());
    assert_eq!(card.transmit(vec![0, 0xA4]), Err(CardLinkError::Lost));
}

#[test]
fn status_words_of_the_file_system() {
    let card = SoftwareCard::new(vec![0x30, 0x03, 0x02, 0x01, 0x07]);
    let check = |command: Vec<u8>, expected: &[u8]| {
        assert_eq!(send(&card, &command), expected, "command {command:02X?}");
    };
    // Nothing selected yet.
    check(apdu::select_ef(EF_AUTH_CERTIFICATE), &SW_FILE_NOT_FOUND);
    check(apdu::read_binary(0, 1).unwrap(), &SW_NO_CURRENT_EF);
    check(VERIFY_STATUS.to_vec(), &SW_NO_CURRENT_EF);
    check(
        apdu::select_aid(&[0xA0, 0, 0, 0, 1]).unwrap(),
        &SW_FILE_NOT_FOUND,
    );
    check(apdu::select_aid(&JPKI_AP_AID).unwrap(), &SW_OK);
    check(apdu::select_ef([0x00, 0x01]), &SW_FILE_NOT_FOUND);
    check(apdu::select_ef(EF_AUTH_CERTIFICATE), &SW_OK);
    check(
        apdu::read_binary(0, 0).unwrap(),
        &[0x30, 0x03, 0x02, 0x01, 0x07, 0x90, 0x00],
    );
    check(apdu::read_binary(3, 10).unwrap(), &[0x01, 0x07, 0x90, 0x00]);
    check(apdu::read_binary(4, 1).unwrap(), &[0x07, 0x90, 0x00]);
    check(apdu::read_binary(5, 1).unwrap(), &SW_OFFSET_OUTSIDE_EF);
    check(apdu::read_binary(0x7FFF, 1).unwrap(), &SW_OFFSET_OUTSIDE_EF);
    // VERIFY and signing on a file that is not a PIN or a key.
    check(VERIFY_STATUS.to_vec(), &SW_NO_CURRENT_EF);
    check(sign_command(&[0x30, 0x00]), &SW_NO_CURRENT_EF);
    // Malformed and unsupported commands.
    check(vec![], &SW_WRONG_LENGTH);
    check(vec![0x00, 0xB0, 0x00], &SW_WRONG_LENGTH);
    check(vec![0x00, 0xB0, 0x00, 0x00], &SW_WRONG_LENGTH);
    check(vec![0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3], &SW_WRONG_LENGTH);
    check(vec![0x00, 0xA4, 0x04, 0x04, 0x01, 0xD3], &SW_WRONG_P1P2);
    check(vec![0x00, 0x84, 0x00, 0x00, 0x08], &SW_INS_NOT_SUPPORTED);
    check(vec![0x80, 0xB0, 0x00, 0x00, 0x01], &SW_CLA_NOT_SUPPORTED);
    check(vec![0x00, 0xB0, 0x81, 0x00, 0x01], &SW_WRONG_P1P2);
    // A failed SELECT keeps the current file.
    check(apdu::read_binary(0, 2).unwrap(), &[0x30, 0x03, 0x90, 0x00]);
    assert_eq!(card.exchanges(), 23);
}

#[test]
fn builder_rejects_impossible_cards() {
    let build = |b: SoftwareCardBuilder| b.build().map(|_| ());
    let base = || SoftwareCard::builder(vec![0x30, 0x00]);
    assert!(build(base()).is_ok());
    assert!(build(base().auth_pin("123")).is_err());
    assert!(build(base().auth_pin("12345")).is_err());
    assert!(build(base().card_info_pin("１２３４")).is_err());
    assert!(build(base().auth_pin_tries_left(4)).is_err());
    assert!(build(base().card_info_pin_tries_left(9)).is_err());
}
