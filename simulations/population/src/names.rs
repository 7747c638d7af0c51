//! Japanese names, addresses, insurers and institution names (all synthetic).
//!
//! Given names follow the birth cohort (a woman born in 1935 is more likely 和子 than
//! 陽菜), addresses are drawn from a table of real municipalities with synthetic block
//! numbers, and institutions are named after the patient's area ("世田谷中央病院"), so a
//! patient's hospital, clinic and pharmacy look local to each other. No name here is
//! meant to be a real institution or person.

use chrono::{Datelike, NaiveDate};
use myna_domain::identity::Sex;
use rand::Rng;

use crate::random::{PatientRng, pick, pick_weighted};

/// Common family names (surname frequency order, top of the list).
#[rustfmt::skip]
pub(crate) const FAMILY_NAMES: &[&str] = &[
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
    "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水",
    "山崎", "森", "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川",
    "前田", "岡田", "長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本",
];

/// Given names by sex and birth cohort: (born before year, male names, female names).
/// The last row has `i32::MAX` and catches everyone younger.
#[rustfmt::skip]
pub(crate) const GIVEN_NAMES: &[(i32, &[&str], &[&str])] = &[
    (1945,
     &["清", "実", "勇", "博", "進", "茂", "正", "武", "三郎", "勝"],
     &["和子", "幸子", "節子", "文子", "久子", "美代子", "静子", "千代", "ハナ", "トミ"]),
    (1970,
     &["誠", "浩", "修", "隆", "健一", "和夫", "明", "哲也", "秀樹", "直樹"],
     &["恵子", "京子", "洋子", "裕子", "久美子", "由美子", "真由美", "明美", "直美", "智子"]),
    (1995,
     &["大輔", "拓也", "健太", "翔太", "達也", "和也", "直人", "亮", "学", "剛"],
     &["陽子", "愛", "彩", "美穂", "麻衣", "舞", "沙織", "香織", "恵", "裕美"]),
    (i32::MAX,
     &["蓮", "大翔", "陽翔", "悠真", "湊", "樹", "颯太", "蒼", "陽太", "悠人"],
     &["陽菜", "結衣", "葵", "さくら", "美咲", "凛", "結菜", "芽依", "紬", "莉子"]),
];

/// A municipality patients live in.
pub(crate) struct Area {
    /// Prefecture, e.g. "東京都".
    pub prefecture: &'static str,
    /// City or ward as written in an address, e.g. "横浜市港北区".
    pub city: &'static str,
    /// The municipality that runs National Health Insurance, e.g. "横浜市".
    pub municipality: &'static str,
    /// Short local name used in institution names, e.g. "港北".
    pub stem: &'static str,
    /// Town names (町名) within the city.
    pub towns: &'static [&'static str],
}

/// Where synthetic patients live (real municipalities, synthetic block numbers).
#[rustfmt::skip]
pub(crate) const AREAS: &[Area] = &[
    area("東京都", "世田谷区", "世田谷区", "世田谷", &["桜丘", "三軒茶屋", "経堂", "用賀", "成城"]),
    area("東京都", "練馬区", "練馬区", "練馬", &["石神井町", "大泉学園町", "光が丘", "豊玉北"]),
    area("東京都", "足立区", "足立区", "足立", &["西新井", "綾瀬", "千住", "竹の塚"]),
    area("東京都", "八王子市", "八王子市", "八王子", &["元本郷町", "子安町", "横山町", "南大沢"]),
    area("神奈川県", "横浜市港北区", "横浜市", "港北", &["日吉", "綱島西", "大倉山", "新横浜"]),
    area("神奈川県", "川崎市中原区", "川崎市", "中原", &["小杉町", "新丸子東", "木月"]),
    area("埼玉県", "さいたま市浦和区", "さいたま市", "浦和", &["高砂", "常盤", "岸町"]),
    area("千葉県", "船橋市", "船橋市", "船橋", &["本町", "前原西", "習志野台"]),
    area("大阪府", "堺市堺区", "堺市", "堺", &["中瓦町", "南花田口町", "大浜北町"]),
    area("大阪府", "豊中市", "豊中市", "豊中", &["本町", "岡町北", "服部元町"]),
    area("大阪府", "大阪市北区", "大阪市", "天満", &["天神橋", "扇町", "中崎"]),
    area("愛知県", "名古屋市千種区", "名古屋市", "千種", &["今池", "覚王山通", "春岡"]),
    area("愛知県", "豊田市", "豊田市", "豊田", &["挙母町", "若宮町", "喜多町"]),
    area("北海道", "札幌市中央区", "札幌市", "札幌", &["北一条西", "南三条西", "宮の森"]),
    area("宮城県", "仙台市青葉区", "仙台市", "青葉", &["一番町", "国分町", "上杉"]),
    area("福岡県", "福岡市博多区", "福岡市", "博多", &["博多駅前", "祇園町", "住吉"]),
    area("広島県", "広島市中区", "広島市", "広島", &["紙屋町", "八丁堀", "幟町"]),
    area("新潟県", "新潟市中央区", "新潟市", "新潟", &["古町通", "万代", "東大通"]),
    area("静岡県", "浜松市中央区", "浜松市", "浜松", &["鍛冶町", "田町", "佐鳴台"]),
    area("長野県", "松本市", "松本市", "松本", &["中央", "大手", "深志"]),
    area("石川県", "金沢市", "金沢市", "金沢", &["片町", "香林坊", "広坂"]),
    area("高知県", "高知市", "高知市", "高知", &["帯屋町", "はりまや町", "本町"]),
    area("鹿児島県", "鹿児島市", "鹿児島市", "鹿児島", &["東千石町", "中央町", "西田"]),
    area("沖縄県", "那覇市", "那覇市", "那覇", &["久茂地", "松山", "泊"]),
];

const fn area(
    prefecture: &'static str,
    city: &'static str,
    municipality: &'static str,
    stem: &'static str,
    towns: &'static [&'static str],
) -> Area {
    Area {
        prefecture,
        city,
        municipality,
        stem,
        towns,
    }
}

/// Suffixes of hospital names (病院).
pub(crate) const HOSPITAL_SUFFIXES: &[&str] = &[
    "中央病院",
    "総合病院",
    "記念病院",
    "医療センター",
    "第一病院",
    "共立病院",
];

/// Soft words used in clinic and pharmacy names.
#[rustfmt::skip]
pub(crate) const NATURE_WORDS: &[&str] = &[
    "みどり", "さくら", "ひまわり", "あおば", "すずらん", "ことぶき", "つくし", "わかば", "ひかり", "やまびこ",
];

/// Clinic-name suffixes used only for institutions away from the patient's own.
pub(crate) const ELSEWHERE_CLINIC_SUFFIXES: &[&str] =
    &["駅前クリニック", "ファミリークリニック", "在宅クリニック"];

/// Health insurance societies (健康保険組合), synthetic company names.
pub(crate) const INSURANCE_SOCIETIES: &[&str] = &[
    "関東電機健康保険組合",
    "東日本商事健康保険組合",
    "日本精密機械健康保険組合",
    "西日本運輸健康保険組合",
    "中部化学工業健康保険組合",
];

/// Mutual aid associations (共済組合) of public servants.
pub(crate) const MUTUAL_AID: &[&str] = &["地方職員共済組合", "公立学校共済組合", "警察共済組合"];

/// "全国健康保険協会" (協会けんぽ), the insurer of most small-company employees.
pub(crate) const KYOKAI_KENPO: &str = "全国健康保険協会";

/// Full name "family given" for someone of `sex` born on `birth_date`.
pub(crate) fn full_name(rng: &mut PatientRng, sex: Sex, birth_date: NaiveDate) -> String {
    let family = pick(rng, FAMILY_NAMES);
    let year = birth_date.year();
    let cohort = GIVEN_NAMES
        .iter()
        .find(|(before, _, _)| year < *before)
        .unwrap_or(&GIVEN_NAMES[GIVEN_NAMES.len() - 1]);
    let given = match sex {
        Sex::Female => pick(rng, cohort.2),
        Sex::Male | Sex::NotApplicable => pick(rng, cohort.1),
    };
    format!("{family} {given}")
}

/// A street address in `area`, e.g. "東京都世田谷区桜丘3丁目12-5".
pub(crate) fn address(rng: &mut PatientRng, area: &Area) -> String {
    let town = pick(rng, area.towns);
    let chome: u8 = rng.random_range(1..=5);
    let banchi: u8 = rng.random_range(1..=30);
    let go: u8 = rng.random_range(1..=20);
    format!(
        "{}{}{town}{chome}丁目{banchi}-{go}",
        area.prefecture, area.city
    )
}

/// The insurer of someone aged `age` living in `area`.
///
/// Everyone 75 or older is in the prefecture's late-stage elderly system (後期高齢者医療);
/// most retired 65–74-year-olds are in municipal National Health Insurance (国民健康保険).
pub(crate) fn insurer(rng: &mut PatientRng, age: u32, area: &Area) -> String {
    #[derive(Clone, Copy)]
    enum Kind {
        Kyokai,
        Society,
        MutualAid,
        National,
    }
    if age >= 75 {
        return format!("{}後期高齢者医療広域連合", area.prefecture);
    }
    let mix: &[(Kind, f64)] = if age >= 65 {
        &[
            (Kind::National, 0.70),
            (Kind::Kyokai, 0.15),
            (Kind::Society, 0.10),
            (Kind::MutualAid, 0.05),
        ]
    } else {
        &[
            (Kind::Kyokai, 0.40),
            (Kind::Society, 0.25),
            (Kind::National, 0.25),
            (Kind::MutualAid, 0.10),
        ]
    };
    match pick_weighted(rng, mix) {
        Kind::Kyokai => KYOKAI_KENPO.to_string(),
        Kind::Society => pick(rng, INSURANCE_SOCIETIES).to_string(),
        Kind::MutualAid => pick(rng, MUTUAL_AID).to_string(),
        Kind::National => format!("{}国民健康保険", area.municipality),
    }
}

/// The institutions one patient uses, named after their area.
#[derive(Debug, Clone)]
pub(crate) struct Institutions {
    /// Family doctor's clinic (かかりつけ医).
    pub clinic: String,
    /// The area's hospital.
    pub hospital: String,
    /// The pharmacy that fills most prescriptions (かかりつけ薬局).
    pub pharmacy: String,
    /// The pharmacy in front of the hospital (門前薬局).
    pub hospital_pharmacy: String,
    stem: &'static str,
}

impl Institutions {
    /// Institutions for a patient living in `area`.
    pub(crate) fn new(rng: &mut PatientRng, area: &Area) -> Self {
        let nature = *pick(rng, NATURE_WORDS);
        let clinic = match rng.random_range(0..3) {
            0 => format!("{}内科クリニック", area.stem),
            1 => format!("{}医院", pick(rng, FAMILY_NAMES)),
            _ => format!("{nature}内科"),
        };
        let hospital = format!("{}{}", area.stem, pick(rng, HOSPITAL_SUFFIXES));
        let town = pick(rng, area.towns);
        let pharmacy = format!("{}薬局 {town}店", pick(rng, NATURE_WORDS));
        let hospital_pharmacy = format!("{}薬局 {}病院前店", pick(rng, NATURE_WORDS), area.stem);
        Institutions {
            clinic,
            hospital,
            pharmacy,
            hospital_pharmacy,
            stem: area.stem,
        }
    }

    /// A specialist clinic, e.g. "世田谷眼科" for suffix "眼科".
    pub(crate) fn specialist(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.stem)
    }

    /// A second clinic and pharmacy in another area, as in a duplicate-medication case
    /// (the same ingredient prescribed by two institutions that do not know of each other).
    pub(crate) fn elsewhere(rng: &mut PatientRng) -> (String, String) {
        let area = pick(rng, AREAS);
        // Patterns the patient's own clinic and pharmacy never use, so the two differ.
        let clinic = format!("{}{}", area.stem, pick(rng, ELSEWHERE_CLINIC_SUFFIXES));
        let pharmacy = format!(
            "{}調剤薬局 {}店",
            pick(rng, NATURE_WORDS),
            pick(rng, area.towns)
        );
        (clinic, pharmacy)
    }
}
