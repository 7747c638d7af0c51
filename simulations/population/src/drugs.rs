//! The drug catalogue: generic and brand labels, ingredient, emergency class, usual dose.
//!
//! Each drug carries both a generic label and a brand label of the same ingredient; a
//! duplicate-medication case (重複投薬) is the same ingredient dispensed under the other
//! label by another institution. Class follows [`DrugClass`]: anticoagulants,
//! antiplatelets and glucose-lowering drugs are what an ER must see first.

use myna_domain::records::{Analyte, DrugClass};

use crate::labs::LabEffect;

/// One drug product as dispensed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drug {
    /// Generic label (一般名処方), e.g. "Amlodipine 5 mg tablet".
    pub generic: &'static str,
    /// Brand label (先発品), e.g. "Norvasc 5 mg tablet".
    pub brand: &'static str,
    /// Ingredient (成分), lowercase English, the key of duplicate checks.
    pub ingredient: &'static str,
    /// Emergency class.
    pub class: DrugClass,
    /// Usual dose and frequency.
    pub dosage: &'static str,
    /// How taking the drug shows in lab results, if it does (warfarin → PT-INR high).
    pub effect: Option<LabEffect>,
}

const fn drug(
    generic: &'static str,
    brand: &'static str,
    ingredient: &'static str,
    class: DrugClass,
    dosage: &'static str,
) -> Drug {
    Drug {
        generic,
        brand,
        ingredient,
        class,
        dosage,
        effect: None,
    }
}

impl Drug {
    const fn with_effect(self, effect: LabEffect) -> Drug {
        Drug {
            effect: Some(effect),
            ..self
        }
    }
}

use DrugClass::{Anticoagulant, Antiplatelet, GlucoseLowering, Other};

// Cardiovascular: blood pressure, lipids, rhythm.
pub(crate) const AMLODIPINE: Drug = drug("Amlodipine 5 mg tablet", "Norvasc 5 mg tablet", "amlodipine", Other, "5 mg once daily");
pub(crate) const CANDESARTAN: Drug = drug("Candesartan 8 mg tablet", "Blopress 8 mg tablet", "candesartan", Other, "8 mg once daily");
pub(crate) const TELMISARTAN: Drug = drug("Telmisartan 40 mg tablet", "Micardis 40 mg tablet", "telmisartan", Other, "40 mg once daily");
pub(crate) const ROSUVASTATIN: Drug = drug("Rosuvastatin 2.5 mg tablet", "Crestor 2.5 mg tablet", "rosuvastatin", Other, "2.5 mg once daily");
pub(crate) const ATORVASTATIN: Drug = drug("Atorvastatin 10 mg tablet", "Lipitor 10 mg tablet", "atorvastatin", Other, "10 mg once daily");
pub(crate) const BISOPROLOL: Drug = drug("Bisoprolol 2.5 mg tablet", "Maintate 2.5 mg tablet", "bisoprolol", Other, "2.5 mg once daily");
pub(crate) const CARVEDILOL: Drug = drug("Carvedilol 2.5 mg tablet", "Artist 2.5 mg tablet", "carvedilol", Other, "2.5 mg twice daily");
pub(crate) const FUROSEMIDE: Drug = drug("Furosemide 20 mg tablet", "Lasix 20 mg tablet", "furosemide", Other, "20 mg once daily in the morning")
    .with_effect(LabEffect::lowers(Analyte::Potassium, 0.2));
pub(crate) const SPIRONOLACTONE: Drug = drug("Spironolactone 25 mg tablet", "Aldactone A 25 mg tablet", "spironolactone", Other, "25 mg once daily")
    .with_effect(LabEffect::raises(Analyte::Potassium, 0.25));
pub(crate) const SACUBITRIL_VALSARTAN: Drug = drug("Sacubitril/valsartan 100 mg tablet", "Entresto 100 mg tablet", "sacubitril/valsartan", Other, "100 mg twice daily");
pub(crate) const NITROGLYCERIN: Drug = drug("Nitroglycerin 0.3 mg sublingual tablet", "Nitropen 0.3 mg sublingual tablet", "nitroglycerin", Other, "0.3 mg sublingually as needed for chest pain");

// Anticoagulants (抗凝固薬).
pub(crate) const APIXABAN: Drug = drug("Apixaban 5 mg tablet", "Eliquis 5 mg tablet", "apixaban", Anticoagulant, "5 mg twice daily");
pub(crate) const EDOXABAN: Drug = drug("Edoxaban 30 mg tablet", "Lixiana 30 mg tablet", "edoxaban", Anticoagulant, "30 mg once daily");
pub(crate) const RIVAROXABAN: Drug = drug("Rivaroxaban 15 mg tablet", "Xarelto 15 mg tablet", "rivaroxaban", Anticoagulant, "15 mg once daily");
pub(crate) const DABIGATRAN: Drug = drug("Dabigatran etexilate 110 mg capsule", "Prazaxa 110 mg capsule", "dabigatran", Anticoagulant, "110 mg twice daily")
    .with_effect(LabEffect::raises(Analyte::Aptt, 0.5));
pub(crate) const WARFARIN: Drug = drug("Warfarin potassium 1 mg tablet", "Warfarin K 1 mg tablet", "warfarin", Anticoagulant, "3 mg once daily (adjusted to PT-INR)")
    .with_effect(LabEffect::raises(Analyte::PtInr, 0.85));

// Antiplatelets (抗血小板薬).
pub(crate) const ASPIRIN: Drug = drug("Aspirin 100 mg enteric-coated tablet", "Bayaspirin 100 mg tablet", "aspirin", Antiplatelet, "100 mg once daily");
pub(crate) const CLOPIDOGREL: Drug = drug("Clopidogrel 75 mg tablet", "Plavix 75 mg tablet", "clopidogrel", Antiplatelet, "75 mg once daily");
pub(crate) const PRASUGREL: Drug = drug("Prasugrel 3.75 mg tablet", "Efient 3.75 mg tablet", "prasugrel", Antiplatelet, "3.75 mg once daily");
pub(crate) const CILOSTAZOL: Drug = drug("Cilostazol 100 mg tablet", "Pletaal 100 mg tablet", "cilostazol", Antiplatelet, "100 mg twice daily");

// Glucose-lowering drugs (糖尿病治療薬).
pub(crate) const METFORMIN: Drug = drug("Metformin 250 mg tablet", "Metgluco 250 mg tablet", "metformin", GlucoseLowering, "500 mg twice daily");
pub(crate) const SITAGLIPTIN: Drug = drug("Sitagliptin 50 mg tablet", "Januvia 50 mg tablet", "sitagliptin", GlucoseLowering, "50 mg once daily");
pub(crate) const GLIMEPIRIDE: Drug = drug("Glimepiride 1 mg tablet", "Amaryl 1 mg tablet", "glimepiride", GlucoseLowering, "1 mg once daily")
    .with_effect(LabEffect::lowers(Analyte::Glucose, 0.15));
pub(crate) const EMPAGLIFLOZIN: Drug = drug("Empagliflozin 10 mg tablet", "Jardiance 10 mg tablet", "empagliflozin", GlucoseLowering, "10 mg once daily");
pub(crate) const INSULIN_GLARGINE: Drug = drug("Insulin glargine BS injection pen", "Lantus XR SoloStar", "insulin glargine", GlucoseLowering, "12 units once daily at bedtime")
    .with_effect(LabEffect::lowers(Analyte::Glucose, 0.2));
pub(crate) const INSULIN_ASPART: Drug = drug("Insulin aspart BS injection pen", "NovoRapid FlexPen", "insulin aspart", GlucoseLowering, "4 units three times daily before meals")
    .with_effect(LabEffect::lowers(Analyte::Glucose, 0.2));

// Kidney, gout, thyroid, blood.
pub(crate) const SPHERICAL_CARBON: Drug = drug("Spherical carbon adsorbent fine granules 2 g", "Kremezin fine granules 2 g", "spherical carbon adsorbent", Other, "2 g three times daily");
pub(crate) const FEBUXOSTAT: Drug = drug("Febuxostat 20 mg tablet", "Feburic 20 mg tablet", "febuxostat", Other, "20 mg once daily");
pub(crate) const ALLOPURINOL: Drug = drug("Allopurinol 100 mg tablet", "Zyloric 100 mg tablet", "allopurinol", Other, "100 mg twice daily");
pub(crate) const LEVOTHYROXINE: Drug = drug("Levothyroxine 50 µg tablet", "Thyradin S 50 µg tablet", "levothyroxine", Other, "50 µg once daily");
pub(crate) const FERROUS_CITRATE: Drug = drug("Sodium ferrous citrate 50 mg tablet", "Ferromia 50 mg tablet", "sodium ferrous citrate", Other, "100 mg once daily");

// Lungs and allergy.
pub(crate) const TIOTROPIUM: Drug = drug("Tiotropium 2.5 µg inhaler", "Spiriva 2.5 µg Respimat", "tiotropium", Other, "2 inhalations once daily");
pub(crate) const UMECLIDINIUM_VILANTEROL: Drug = drug("Umeclidinium/vilanterol inhaler", "Anoro Ellipta", "umeclidinium/vilanterol", Other, "1 inhalation once daily");
pub(crate) const BUDESONIDE_FORMOTEROL: Drug = drug("Budesonide/formoterol inhaler", "Symbicort Turbuhaler", "budesonide/formoterol", Other, "2 inhalations twice daily");
pub(crate) const MONTELUKAST: Drug = drug("Montelukast 10 mg tablet", "Singulair 10 mg tablet", "montelukast", Other, "10 mg once daily at bedtime");
pub(crate) const FEXOFENADINE: Drug = drug("Fexofenadine 60 mg tablet", "Allegra 60 mg tablet", "fexofenadine", Other, "60 mg twice daily");

// Brain and mind.
pub(crate) const DONEPEZIL: Drug = drug("Donepezil 5 mg tablet", "Aricept 5 mg tablet", "donepezil", Other, "5 mg once daily");
pub(crate) const MEMANTINE: Drug = drug("Memantine 20 mg tablet", "Memary 20 mg tablet", "memantine", Other, "20 mg once daily");
pub(crate) const LEVETIRACETAM: Drug = drug("Levetiracetam 500 mg tablet", "E Keppra 500 mg tablet", "levetiracetam", Other, "500 mg twice daily");
pub(crate) const VALPROATE: Drug = drug("Sodium valproate 200 mg tablet", "Depakene 200 mg tablet", "sodium valproate", Other, "200 mg three times daily")
    .with_effect(LabEffect::lowers(Analyte::Platelets, 0.1));
pub(crate) const ESCITALOPRAM: Drug = drug("Escitalopram 10 mg tablet", "Lexapro 10 mg tablet", "escitalopram", Other, "10 mg once daily after dinner");
pub(crate) const SERTRALINE: Drug = drug("Sertraline 25 mg tablet", "Jzoloft 25 mg tablet", "sertraline", Other, "25 mg once daily");
pub(crate) const BROTIZOLAM: Drug = drug("Brotizolam 0.25 mg tablet", "Lendormin 0.25 mg tablet", "brotizolam", Other, "0.25 mg at bedtime");
pub(crate) const LEMBOREXANT: Drug = drug("Lemborexant 5 mg tablet", "Dayvigo 5 mg tablet", "lemborexant", Other, "5 mg at bedtime");
pub(crate) const DIAZEPAM_SUPPOSITORY: Drug = drug("Diazepam 4 mg suppository", "Diapp 4 mg suppository", "diazepam", Other, "4 mg rectally at fever onset, may repeat after 8 hours");

// Stomach, bones, joints, urinary tract.
pub(crate) const VONOPRAZAN: Drug = drug("Vonoprazan 10 mg tablet", "Takecab 10 mg tablet", "vonoprazan", Other, "10 mg once daily");
pub(crate) const LANSOPRAZOLE: Drug = drug("Lansoprazole OD 15 mg tablet", "Takepron OD 15 mg tablet", "lansoprazole", Other, "15 mg once daily");
pub(crate) const FAMOTIDINE: Drug = drug("Famotidine 20 mg tablet", "Gaster D 20 mg tablet", "famotidine", Other, "20 mg twice daily");
pub(crate) const ALENDRONATE: Drug = drug("Alendronate 35 mg tablet", "Fosamac 35 mg tablet", "alendronate", Other, "35 mg once weekly on waking");
pub(crate) const ELDECALCITOL: Drug = drug("Eldecalcitol 0.75 µg capsule", "Edirol 0.75 µg capsule", "eldecalcitol", Other, "0.75 µg once daily")
    .with_effect(LabEffect::raises(Analyte::Calcium, 0.1));
pub(crate) const LOXOPROFEN: Drug = drug("Loxoprofen 60 mg tablet", "Loxonin 60 mg tablet", "loxoprofen", Other, "60 mg three times daily as needed for pain");
pub(crate) const CELECOXIB: Drug = drug("Celecoxib 100 mg tablet", "Celecox 100 mg tablet", "celecoxib", Other, "100 mg twice daily");
pub(crate) const ACETAMINOPHEN: Drug = drug("Acetaminophen 200 mg tablet", "Calonal 200 mg tablet", "acetaminophen", Other, "400 mg as needed for fever or pain, up to 3 times daily");
pub(crate) const TAMSULOSIN: Drug = drug("Tamsulosin 0.2 mg OD tablet", "Harnal D 0.2 mg tablet", "tamsulosin", Other, "0.2 mg once daily");
pub(crate) const SILODOSIN: Drug = drug("Silodosin 4 mg tablet", "Urief 4 mg tablet", "silodosin", Other, "4 mg twice daily");

// Infections (courses).
pub(crate) const LEVOFLOXACIN: Drug = drug("Levofloxacin 500 mg tablet", "Cravit 500 mg tablet", "levofloxacin", Other, "500 mg once daily");
pub(crate) const AMOXICILLIN_CLAVULANATE: Drug = drug("Amoxicillin/clavulanate 250 mg tablet", "Augmentin 250RS tablet", "amoxicillin/clavulanate", Other, "1 tablet three times daily");
pub(crate) const AMOXICILLIN: Drug = drug("Amoxicillin 250 mg capsule", "Sawacillin 250 mg capsule", "amoxicillin", Other, "500 mg three times daily");
pub(crate) const CEFCAPENE: Drug = drug("Cefcapene pivoxil 100 mg tablet", "Flomox 100 mg tablet", "cefcapene pivoxil", Other, "100 mg three times daily");
pub(crate) const OSELTAMIVIR: Drug = drug("Oseltamivir 75 mg capsule", "Tamiflu 75 mg capsule", "oseltamivir", Other, "75 mg twice daily");
pub(crate) const CARBOCISTEINE: Drug = drug("Carbocisteine 500 mg tablet", "Mucodyne 500 mg tablet", "carbocisteine", Other, "500 mg three times daily");
pub(crate) const LACTIC_ACID_BACTERIA: Drug = drug("Antibiotic-resistant lactic acid bacteria powder", "Biofermin R powder", "lactic acid bacteria", Other, "1 g three times daily");
pub(crate) const ENTECAVIR: Drug = drug("Entecavir 0.5 mg tablet", "Baraclude 0.5 mg tablet", "entecavir", Other, "0.5 mg once daily on an empty stomach");
pub(crate) const SOFOSBUVIR_VELPATASVIR: Drug = drug("Sofosbuvir/velpatasvir tablet", "Epclusa combination tablet", "sofosbuvir/velpatasvir", Other, "1 tablet once daily");
pub(crate) const BICTEGRAVIR_COMBINATION: Drug = drug("Bictegravir/emtricitabine/tenofovir alafenamide tablet", "Biktarvy combination tablet", "bictegravir/emtricitabine/tenofovir alafenamide", Other, "1 tablet once daily");
