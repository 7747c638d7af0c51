use super::*;

#[test]
fn issuer_rejects_impossible_requests() {
    let issuer = issuer();
    let key = card_key();
    let (a, b) = (date(2024, 1, 1), date(2030, 1, 1));
    assert!(issuer.issue_for_key(&key, &[], a, b).is_err());
    assert!(issuer.issue_for_key(&key, &[1; 21], a, b).is_err());
    assert!(issuer.issue_for_key(&key, &[1], b, a).is_err());
    assert!(
        issuer
            .issue_for_key(&key, &[1], date(1900, 1, 1), b)
            .is_err()
    );
    assert!(
        issuer
            .issue_for_key(&key, &[1], a, date(10000, 1, 1))
            .is_err()
    );
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap();
    assert!(issuer.crl_der(&[], now, now).is_err());
    assert!(
        issuer
            .crl_der(&[&[]], now, now + chrono::Days::new(1))
            .is_err()
    );
}

#[test]
fn the_crl_lists_revoked_serials_and_is_signed_by_the_ca() {
    let this_update = Utc.with_ymd_and_hms(2026, 1, 15, 9, 30, 0).unwrap();
    let next_update = this_update + chrono::Days::new(1);
    let revoked: [&[u8]; 2] = [&SERIAL, &[0x01, 0x02]];
    let der = issuer()
        .crl_der(&revoked, this_update, next_update)
        .unwrap();
    let (rest, crl) = x509_parser::parse_x509_crl(&der).unwrap();
    assert!(rest.is_empty());
    assert_eq!(crl.issuer().to_string(), format!("CN={CARD_ISSUER_CN}"));
    assert_eq!(crl.last_update().timestamp(), this_update.timestamp());
    assert_eq!(
        crl.next_update().unwrap().timestamp(),
        next_update.timestamp()
    );
    let serials: Vec<&[u8]> = crl
        .iter_revoked_certificates()
        .map(|r| r.raw_serial())
        .collect();
    assert_eq!(serials, revoked);
    let ca_der = issuer().ca_certificate_der();
    let (_, ca) = X509Certificate::from_der(&ca_der).unwrap();
    crl.verify_signature(ca.public_key()).unwrap();
    // Another CA's key does not verify it.
    let stranger = DevCardIssuer::generate().unwrap().ca_certificate_der();
    let (_, stranger) = X509Certificate::from_der(&stranger).unwrap();
    assert!(crl.verify_signature(stranger.public_key()).is_err());
}

#[test]
fn population_cards_are_created_lazily_and_kept() {
    let today = date(2026, 1, 15);
    let cards = PopulationCards::new(issuer().clone(), 7, today);
    assert_eq!(cards.created(), 0);
    let index = (0..)
        .find(|i| population::patient(7, *i, today).card.is_some())
        .unwrap();
    let patient = population::patient(7, index, today);
    let card = cards.card(index).unwrap();
    assert_eq!(cards.created(), 1);
    assert!(Arc::ptr_eq(&card, &cards.card(index).unwrap()));
    assert_eq!(cards.created(), 1);

    // The certificate carries the population's serial; the card the patient's facts and PIN.
    let certificate = CardCertificate::from_der(card.certificate_der()).unwrap();
    let facts = patient.card.as_ref().unwrap();
    assert_eq!(certificate.serial_hex, facts.serial_hex());
    assert_eq!(certificate.not_before.date_naive(), facts.not_before);
    let pin = dev_pin(&patient);
    assert_eq!(pin.len(), 4);
    assert_eq!(
        send(&card, &apdu::select_aid(&CARD_INFO_AP_AID).unwrap()),
        SW_OK
    );
    assert_eq!(send(&card, &apdu::select_ef(EF_CARD_INFO_PIN)), SW_OK);
    assert_eq!(send(&card, &verify(pin.as_bytes())), SW_OK);
    assert_eq!(send(&card, &apdu::select_ef(EF_BASIC_FACTS)), SW_OK);
    let stored = facts::decode(&read_to_end(&card, 0)).unwrap();
    assert_eq!(stored, CardHolderFacts::from(&patient));
    assert_eq!(
        card.ca_certificate_der(),
        Some(&cards.issuer().ca_certificate_der()[..])
    );

    // A patient without a card gets none, and nothing is kept for them.
    let carless = (0..)
        .find(|i| population::patient(7, *i, today).card.is_none())
        .unwrap();
    assert!(cards.card(carless).is_err());
    assert_eq!(cards.created(), 1);
}

#[test]
fn dev_pins_are_four_digits_and_differ_between_patients() {
    let today = date(2026, 1, 15);
    let pins: std::collections::HashSet<String> = population::patients(3, 200, today)
        .map(|p| dev_pin(&p))
        .inspect(|pin| assert!(pin.len() == 4 && pin.bytes().all(|b| b.is_ascii_digit())))
        .collect();
    assert!(pins.len() > 150, "only {} distinct PINs", pins.len());
}

#[test]
fn a_process_has_one_development_ca_unless_another_is_generated() {
    let shared = DevCardIssuer::new().unwrap().ca_certificate_der();
    assert_eq!(shared, issuer().ca_certificate_der());
    assert_eq!(shared, DevCardIssuer::new().unwrap().ca_certificate_der());
    let other = DevCardIssuer::generate().unwrap().ca_certificate_der();
    assert_ne!(other, shared);
    // A card of the other CA does not verify with the process CA.
    let der = DevCardIssuer::generate()
        .unwrap()
        .issue_for_key(&card_key(), &SERIAL, date(2024, 4, 1), date(2029, 3, 31))
        .unwrap();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let (_, ca) = X509Certificate::from_der(&shared).unwrap();
    assert!(cert.verify_signature(Some(ca.public_key())).is_err());
}
