use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeZone;
use myna_domain::access::IncidentId;
use myna_domain::identity::PatientId;
use myna_domain::records::ReferenceRange;
use myna_domain::summary::EmergencySummary;
use serde_json::{Value, json};

use super::*;

const HANDOFF: u128 = 0x1234;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn at(h: u32, min: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, h, min, 0).unwrap()
}

fn medication(drug: &str, ingredient: &str, class: DrugClass, date: NaiveDate) -> Medication {
    Medication {
        drug: drug.into(),
        ingredient: ingredient.into(),
        class,
        dosage: "5 mg twice daily".into(),
        days_supplied: 30,
        date,
        institution: "Hanamizuki Pharmacy".into(),
        source: RecordSource::Claims,
    }
}

fn allergy(substance: &str, severity: AllergySeverity) -> Allergy {
    Allergy {
        substance: substance.into(),
        reaction: "anaphylaxis".into(),
        severity,
        recorded_on: d(2024, 1, 10),
    }
}

fn quantity_lab(analyte: Analyte, value: f64, unit: &str, low: f64, high: f64) -> MedicalRecord {
    MedicalRecord::LabResult(LabResult {
        analyte,
        value: LabValue::Quantity {
            value,
            unit: unit.into(),
            reference: ReferenceRange {
                low: Some(low),
                high: Some(high),
            },
        },
        observed_on: d(2025, 9, 1),
    })
}

/// Three allergies, two drugs, two infection tests, three labs, two diagnoses, a surgery,
/// a visit and a checkup.
fn full_summary() -> EmergencySummary {
    EmergencySummary {
        patient: PatientHeader {
            id: PatientId("P-7".into()),
            name: "佐藤 花子".into(),
            birth_date: d(1950, 4, 1),
            sex: Sex::Female,
        },
        records: vec![
            MedicalRecord::DrugAllergy(allergy("Cefazolin", AllergySeverity::Severe)),
            MedicalRecord::OtherAllergy(allergy("そば buckwheat", AllergySeverity::Moderate)),
            MedicalRecord::OtherAllergy(allergy("Latex gloves", AllergySeverity::Mild)),
            MedicalRecord::Infection(InfectionResult {
                marker: InfectionMarker::HbsAntigen,
                result: QualitativeResult::Positive,
                tested_on: d(2025, 3, 3),
            }),
            MedicalRecord::Infection(InfectionResult {
                marker: InfectionMarker::HcvAntibody,
                result: QualitativeResult::Negative,
                tested_on: d(2025, 3, 3),
            }),
            MedicalRecord::DrugInformation(medication(
                "Eliquis",
                "apixaban",
                DrugClass::Anticoagulant,
                d(2026, 11, 10),
            )),
            MedicalRecord::Prescription(Medication {
                source: RecordSource::EPrescription,
                institution: "Sakura Clinic".into(),
                ..medication("Amlodin", "amlodipine", DrugClass::Other, d(2025, 1, 5))
            }),
            quantity_lab(Analyte::Potassium, 6.4, "mmol/L", 3.5, 5.0),
            quantity_lab(Analyte::Hemoglobin, 9.1, "g/dL", 11.5, 15.0),
            MedicalRecord::LabResult(LabResult {
                analyte: Analyte::AboBloodGroup,
                value: LabValue::Text { text: "A".into() },
                observed_on: d(2020, 6, 1),
            }),
            MedicalRecord::Diagnosis(Diagnosis {
                name: "Atrial fibrillation".into(),
                icd10: "I48".into(),
                recorded_on: d(2023, 5, 1),
                active: true,
                source: RecordSource::EhrSharing,
            }),
            MedicalRecord::Diagnosis(Diagnosis {
                name: "Appendicitis".into(),
                icd10: "K35".into(),
                recorded_on: d(2022, 8, 1),
                active: false,
                source: RecordSource::Claims,
            }),
            MedicalRecord::Surgery(Surgery {
                procedure: "Appendectomy".into(),
                date: d(2022, 8, 2),
                institution: "Setagaya General Hospital".into(),
            }),
            MedicalRecord::Visit(Visit {
                institution: "Setagaya General Hospital".into(),
                department: "Cardiology".into(),
                date: d(2026, 10, 1),
                inpatient: false,
            }),
            MedicalRecord::Checkup(Checkup {
                date: d(2025, 6, 1),
                bmi: 24.1,
                systolic_mmhg: 142,
                diastolic_mmhg: 88,
                hba1c_percent: 6.1,
                ldl_mg_dl: 151,
            }),
        ],
        assembled_at: at(0, 50),
    }
}

fn notice(summary: Option<EmergencySummary>, consent: Option<ConsentState>) -> ArrivalNotice {
    ArrivalNotice {
        handoff_id: Uuid::from_u128(HANDOFF),
        incident_id: IncidentId(Uuid::from_u128(HANDOFF + 1)),
        fire_department: "東京消防庁 Tokyo FD".into(),
        unit: "Setagaya Ambulance 7".into(),
        chief_complaint: "Chest pain 胸痛".into(),
        eta: at(1, 10),
        vitals: myna_domain::fixtures::shock_vitals(),
        consent,
        summary,
        sent_at: at(0, 55),
        scene: None,
    }
}

fn full_notice() -> ArrivalNotice {
    notice(Some(full_summary()), Some(ConsentState::Given))
}

fn refused_notice() -> ArrivalNotice {
    notice(None, Some(ConsentState::Refused))
}

fn bundle(notice: &ArrivalNotice) -> Value {
    let bundle = ips_bundle(notice, at(1, 0));
    assert_eq!(bundle["resourceType"], "Bundle", "{bundle:#}");
    bundle
}

fn resources(bundle: &Value) -> Vec<&Value> {
    let entries = bundle["entry"].as_array().expect("entries");
    entries.iter().map(|e| &e["resource"]).collect()
}

fn of_type<'a>(bundle: &'a Value, resource_type: &str) -> Vec<&'a Value> {
    resources(bundle)
        .into_iter()
        .filter(|r| r["resourceType"] == resource_type)
        .collect()
}

fn composition(bundle: &Value) -> &Value {
    let first = &bundle["entry"][0]["resource"];
    assert_eq!(first["resourceType"], "Composition");
    first
}

/// The Composition section coded `loinc`.
fn section<'a>(bundle: &'a Value, loinc: &str) -> Option<&'a Value> {
    composition(bundle)["section"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["code"]["coding"][0]["code"] == loinc)
}

/// The resource a reference points to, inside the bundle.
fn resolve<'a>(bundle: &'a Value, reference: &Value) -> &'a Value {
    let url = reference["reference"].as_str().expect("reference");
    let entry = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["fullUrl"] == url)
        .unwrap_or_else(|| panic!("{url} is not in the bundle"));
    &entry["resource"]
}

/// Resource types of a section's entries, counted.
fn section_types(bundle: &Value, loinc: &str) -> BTreeMap<String, usize> {
    let mut types = BTreeMap::new();
    let entries = section(bundle, loinc).map(|s| &s["entry"]);
    for entry in entries.and_then(Value::as_array).into_iter().flatten() {
        let resource_type = resolve(bundle, entry)["resourceType"].as_str().unwrap();
        *types.entry(resource_type.to_owned()).or_default() += 1;
    }
    types
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The Observation with this code (any system).
fn observation<'a>(bundle: &'a Value, code: &str) -> &'a Value {
    of_type(bundle, "Observation")
        .into_iter()
        .find(|o| {
            o["code"]["coding"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["code"] == code))
        })
        .unwrap_or_else(|| panic!("no Observation coded {code}"))
}

/// Compares whole JSON values, printing the actual one for a failing snapshot.
fn check(actual: &Value, expected: Value) {
    assert_eq!(
        *actual,
        expected,
        "actual:\n{}",
        serde_json::to_string_pretty(actual).unwrap()
    );
}

/// Every `"reference"` string anywhere in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("reference", Value::String(r)) => found.push(r.clone()),
                    _ => references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, found)),
        _ => {}
    }
}

#[test]
fn full_notice_fills_every_section_with_its_resources() {
    let bundle = bundle(&full_notice());
    assert_eq!(bundle["type"], "document");
    let mut by_type = BTreeMap::new();
    for resource in resources(&bundle) {
        let resource_type = resource["resourceType"].as_str().unwrap().to_owned();
        *by_type.entry(resource_type).or_insert(0) += 1;
    }
    assert_eq!(
        by_type,
        counts(&[
            ("AllergyIntolerance", 3),
            ("Composition", 1),
            ("Condition", 2),
            ("Encounter", 1),
            ("MedicationStatement", 2),
            ("Observation", 12),
            ("Patient", 1),
            ("Procedure", 1),
        ])
    );
    let expected = [
        ("48765-2", counts(&[("AllergyIntolerance", 3)])),
        ("10160-0", counts(&[("MedicationStatement", 2)])),
        ("11450-4", counts(&[("Condition", 1)])),
        // Three labs, two infection tests, one checkup.
        ("30954-2", counts(&[("Observation", 6)])),
        ("47519-4", counts(&[("Procedure", 1)])),
        ("8716-3", counts(&[("Observation", 6)])),
        ("11348-0", counts(&[("Condition", 1)])),
        ("46240-8", counts(&[("Encounter", 1)])),
        ("10154-3", counts(&[])),
    ];
    for (loinc, types) in &expected {
        assert_eq!(section_types(&bundle, loinc), *types, "section {loinc}");
        let text = &section(&bundle, loinc).unwrap()["text"];
        assert_eq!(text["status"], "generated", "section {loinc}");
        assert!(text["div"].as_str().unwrap().starts_with("<div xmlns="));
    }
    let sections = composition(&bundle)["section"].as_array().unwrap();
    assert_eq!(sections.len(), expected.len());
    let composition = composition(&bundle);
    assert_eq!(composition["type"]["coding"][0]["code"], "60591-5");
    assert_eq!(composition["status"], "final");
    assert_eq!(
        resolve(&bundle, &composition["subject"])["resourceType"],
        "Patient"
    );
    let chief = section(&bundle, "10154-3").unwrap();
    assert!(
        chief["text"]["div"]
            .as_str()
            .unwrap()
            .contains("Chest pain 胸痛")
    );
}

#[test]
fn every_reference_resolves_inside_the_bundle() {
    for notice in [full_notice(), refused_notice()] {
        let bundle = bundle(&notice);
        let entries = bundle["entry"].as_array().unwrap();
        let mut urls = BTreeSet::new();
        for entry in entries {
            let url = entry["fullUrl"]
                .as_str()
                .expect("every entry has a fullUrl");
            let uuid = url.strip_prefix("urn:uuid:").expect("urn:uuid");
            assert!(Uuid::parse_str(uuid).is_ok(), "{url}");
            assert_eq!(entry["resource"]["id"], uuid, "id agrees with fullUrl");
            assert!(urls.insert(url.to_owned()), "duplicate {url}");
        }
        let mut found = Vec::new();
        references(&bundle, &mut found);
        // At least one per entry but the Composition (section entries, subjects, patients).
        assert!(found.len() >= entries.len() - 1, "{found:?}");
        for reference in found {
            assert!(urls.contains(&reference), "{reference} does not resolve");
        }
        // And every entry but the Composition is listed in some section.
        let listed: BTreeSet<String> = composition(&bundle)["section"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["entry"].as_array())
            .flatten()
            .map(|r| r["reference"].as_str().unwrap().to_owned())
            .collect();
        for entry in &entries[1..] {
            if entry["resource"]["resourceType"] != "Patient" {
                assert!(listed.contains(entry["fullUrl"].as_str().unwrap()));
            }
        }
    }
}

#[test]
fn abnormal_labs_carry_interpretation_and_reference_range() {
    let bundle = bundle(&full_notice());
    let potassium = observation(&bundle, "2823-3");
    let patient = composition(&bundle)["subject"].clone();
    let expected = json!({
        "resourceType": "Observation",
        "id": potassium["id"],
        "meta": {"tag": [{"system": RECORD_KIND_SYSTEM, "code": "lab_result", "display": "Lab result"}]},
        "extension": [{
            "url": RECORD_SOURCE_EXTENSION,
            "valueCoding": {"system": RECORD_SOURCE_SYSTEM, "code": "ehr_sharing", "display": "EHR sharing"}
        }],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": {
            "coding": [
                {"system": LOINC, "code": "2823-3"},
                {"system": ANALYTE_SYSTEM, "code": "potassium", "display": "Potassium (K)"}
            ],
            "text": "Potassium (K) カリウム"
        },
        "subject": patient,
        "effectiveDateTime": "2025-09-01",
        "valueQuantity": {"value": 6.4, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
        "interpretation": [{"coding": [{"system": INTERPRETATION, "code": "H", "display": "High"}]}],
        "referenceRange": [{
            "low": {"value": 3.5, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
            "high": {"value": 5.0, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}
        }]
    });
    check(potassium, expected);

    let hemoglobin = observation(&bundle, "718-7");
    assert_eq!(hemoglobin["interpretation"][0]["coding"][0]["code"], "L");
    assert_eq!(hemoglobin["referenceRange"][0]["low"]["value"], 11.5);
    assert_eq!(hemoglobin["referenceRange"][0]["high"]["value"], 15.0);

    let blood_group = observation(&bundle, "883-9");
    assert_eq!(blood_group["valueString"], "A");
    assert!(blood_group.get("interpretation").is_none());
    assert!(blood_group.get("referenceRange").is_none());
}

#[test]
fn infection_results_are_observations_with_coded_results() {
    let bundle = bundle(&full_notice());
    let hbs = observation(&bundle, "5196-1");
    assert_eq!(hbs["valueCodeableConcept"]["coding"][0]["system"], SNOMED);
    assert_eq!(hbs["valueCodeableConcept"]["coding"][0]["code"], "10828004");
    assert_eq!(hbs["interpretation"][0]["coding"][0]["code"], "POS");
    assert_eq!(hbs["effectiveDateTime"], "2025-03-03");
    let hcv = observation(&bundle, "16128-1");
    assert_eq!(hcv["interpretation"][0]["coding"][0]["code"], "NEG");
    assert!(of_type(&bundle, "Condition").iter().all(|c| {
        let name = c["code"]["text"].as_str().unwrap();
        !name.contains("HBs") && !name.contains("HCV")
    }));
}

#[test]
fn records_name_their_source_and_date() {
    let bundle = bundle(&full_notice());
    let source = |r: &Value| r["extension"][0]["valueCoding"]["code"].clone();
    let kind = |r: &Value| r["meta"]["tag"][0]["code"].clone();

    let statements = of_type(&bundle, "MedicationStatement");
    let [eliquis, amlodin] = statements[..] else {
        panic!("two statements")
    };
    assert_eq!(source(eliquis), "claims");
    assert_eq!(kind(eliquis), "drug_information");
    assert_eq!(eliquis["effectivePeriod"]["start"], "2026-11-10");
    assert_eq!(eliquis["effectivePeriod"]["end"], "2026-12-10");
    assert_eq!(eliquis["status"], "active");
    assert_eq!(
        eliquis["informationSource"]["display"],
        "Hanamizuki Pharmacy"
    );
    assert_eq!(
        eliquis["medicationCodeableConcept"]["text"],
        "Eliquis (apixaban)"
    );
    assert_eq!(
        eliquis["category"]["coding"][0]["system"],
        DRUG_CLASS_SYSTEM
    );
    assert_eq!(eliquis["category"]["coding"][0]["code"], "anticoagulant");
    assert_eq!(eliquis["extension"][1]["url"], HIGH_RISK_EXTENSION);
    assert_eq!(eliquis["extension"][1]["valueBoolean"], true);
    assert_eq!(eliquis["dosage"][0]["text"], "5 mg twice daily");

    assert_eq!(source(amlodin), "e_prescription");
    assert_eq!(kind(amlodin), "prescription");
    assert_eq!(amlodin["status"], "completed", "supply ended in 2025");
    assert_eq!(amlodin["extension"][1]["valueBoolean"], false);

    let allergies = of_type(&bundle, "AllergyIntolerance");
    assert_eq!(source(allergies[0]), "ehr_sharing");
    assert_eq!(allergies[0]["recordedDate"], "2024-01-10");
    let conditions = of_type(&bundle, "Condition");
    assert_eq!(source(conditions[1]), "claims");
    assert_eq!(conditions[0]["recordedDate"], "2023-05-01");
    let procedure = &of_type(&bundle, "Procedure")[0];
    assert_eq!(source(procedure), "claims");
    assert_eq!(procedure["performedDateTime"], "2022-08-02");
    let checkup = observation(&bundle, "checkup");
    assert_eq!(source(checkup), "checkup");
    assert_eq!(checkup["effectiveDateTime"], "2025-06-01");
}

#[test]
fn allergies_get_category_and_criticality() {
    let bundle = bundle(&full_notice());
    let allergies = of_type(&bundle, "AllergyIntolerance");
    let summary: Vec<(Value, Value, Value)> = allergies
        .iter()
        .map(|a| {
            (
                a["category"].clone(),
                a["criticality"].clone(),
                a["reaction"][0]["severity"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!(["medication"]), json!("high"), json!("severe")),
            (json!(["food"]), json!("low"), json!("moderate")),
            (json!(["environment"]), json!("low"), json!("mild")),
        ]
    );
    for (substance, expected) in [
        ("そば", Some(AllergyIntoleranceCategory::Food)),
        ("Peanuts", Some(AllergyIntoleranceCategory::Food)),
        ("ラテックス", Some(AllergyIntoleranceCategory::Environment)),
        ("Cat dander", Some(AllergyIntoleranceCategory::Environment)),
        ("Contrast medium", None),
        ("Iodine medication", None),
    ] {
        assert_eq!(other_allergy_category(substance), expected, "{substance}");
    }
}

#[test]
fn patient_carries_identifier_name_sex_and_birth_date() {
    let bundle = bundle(&full_notice());
    let patient = &of_type(&bundle, "Patient")[0];
    check(
        patient,
        json!({
            "resourceType": "Patient",
            "id": patient["id"],
            "identifier": [{"system": PATIENT_ID_SYSTEM, "value": "P-7"}],
            "name": [{"use": "official", "text": "佐藤 花子", "family": "佐藤", "given": ["花子"]}],
            "gender": "female",
            "birthDate": "1950-04-01"
        }),
    );
}

#[test]
fn crew_vitals_use_vital_sign_loinc_codes() {
    let bundle = bundle(&full_notice());
    let vitals: Vec<&Value> = section(&bundle, "8716-3").unwrap()["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| resolve(&bundle, r))
        .collect();
    let codes: Vec<&str> = vitals
        .iter()
        .map(|o| o["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["8867-4", "59408-5", "9279-1", "8310-5", "9269-2", "85354-9"]
    );
    for vital in &vitals {
        assert_eq!(vital["effectiveDateTime"], "2026-11-25T00:55:00Z");
        assert_eq!(
            vital["performer"][0]["display"],
            "東京消防庁 Tokyo FD Setagaya Ambulance 7"
        );
    }
    let temperature = observation(&bundle, "8310-5");
    assert_eq!(
        temperature["valueQuantity"],
        json!({"value": 36.9, "unit": "°C", "system": UCUM, "code": "Cel"})
    );
    let pressure = observation(&bundle, "85354-9");
    let halves: Vec<(Value, Value)> = pressure["component"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"]["coding"][0]["code"].clone(),
                c["valueQuantity"]["value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        halves,
        vec![
            (json!("8480-6"), json!(84.0)),
            (json!("8462-4"), json!(50.0))
        ]
    );
    assert_eq!(
        observation(&bundle, "9269-2")["category"][0]["coding"][0]["code"],
        "survey"
    );
}

#[test]
fn refused_consent_shares_no_records() {
    let bundle = bundle(&refused_notice());
    let types: BTreeSet<&str> = resources(&bundle)
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, BTreeSet::from(["Composition", "Observation"]));
    // The only observations are the crew's vitals.
    assert_eq!(of_type(&bundle, "Observation").len(), 6);
    assert_eq!(
        section_types(&bundle, "8716-3"),
        counts(&[("Observation", 6)])
    );
    let composition = composition(&bundle);
    let subject = &composition["subject"];
    assert!(subject.get("reference").is_none(), "{subject}");
    assert!(
        subject["display"]
            .as_str()
            .unwrap()
            .contains("Consent refused")
    );
    for loinc in ["48765-2", "10160-0", "11450-4"] {
        let section = section(&bundle, loinc).unwrap();
        assert_eq!(section["emptyReason"]["coding"][0]["code"], "withheld");
        assert!(section.get("entry").is_none());
    }
    for loinc in ["30954-2", "47519-4", "11348-0", "46240-8"] {
        assert!(section(&bundle, loinc).is_none(), "{loinc}");
    }
    assert!(section(&bundle, "10154-3").is_some());
    assert_eq!(composition["extension"][0]["url"], CONSENT_STATE_EXTENSION);
    assert_eq!(
        composition["extension"][0]["valueCoding"]["code"],
        "refused"
    );
}

#[test]
fn empty_required_sections_are_unavailable_not_nil_known() {
    let mut summary = full_summary();
    summary.records.clear();
    let reason = DifficultyReason::Other("neighbour Tanaka says she is deaf".into());
    let bundle = bundle(&notice(
        Some(summary),
        Some(ConsentState::Difficult { reason }),
    ));
    for loinc in ["48765-2", "10160-0", "11450-4"] {
        let section = section(&bundle, loinc).unwrap();
        assert_eq!(section["emptyReason"]["coding"][0]["code"], "unavailable");
    }
    assert_eq!(of_type(&bundle, "Patient").len(), 1);
    let extension = &composition(&bundle)["extension"];
    assert_eq!(extension[0]["valueCoding"]["code"], "difficult");
    assert_eq!(extension[1]["valueCoding"]["code"], "other");
    // The crew's free-text reason may name people: it is not exported.
    assert!(!bundle.to_string().contains("Tanaka"));
}

#[test]
fn same_notice_gives_the_same_bundle() {
    let first = bundle(&full_notice());
    assert_eq!(first, bundle(&full_notice()));
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&bundle(&full_notice())).unwrap()
    );
    let other = ArrivalNotice {
        handoff_id: Uuid::from_u128(HANDOFF + 100),
        ..full_notice()
    };
    let urls = |b: &Value| -> BTreeSet<String> {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(urls(&first).is_disjoint(&urls(&bundle(&other))));
    assert_ne!(first["identifier"], bundle(&other)["identifier"]);
}

#[test]
fn bundle_round_trips_through_fhir_model() {
    for notice in [full_notice(), refused_notice()] {
        let json = bundle(&notice);
        let parsed: Bundle = serde_json::from_value(json.clone()).expect("a valid R4 Bundle");
        assert_eq!(parsed.entry.len(), json["entry"].as_array().unwrap().len());
        assert!(matches!(
            parsed.entry[0].as_ref().and_then(|e| e.resource.as_ref()),
            Some(Resource::Composition(_))
        ));
        // Nothing was dropped as unknown: the typed bundle writes the same JSON back.
        check(&serde_json::to_value(&parsed).unwrap(), json);
    }
}

#[test]
fn date_beyond_fhir_range_gives_operation_outcome() {
    let mut summary = full_summary();
    summary.patient.birth_date = d(10_000, 1, 1);
    let outcome = ips_bundle(&notice(Some(summary), None), at(1, 0));
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert!(!outcome.to_string().contains("佐藤"));
}
