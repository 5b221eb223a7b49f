//! The template in SDMX's terms: its dataflow's agency and id, as SDMX-CSV returns name it.

/// The agency and id of a template's dataflow: its organisation and name in upper case
/// (SDMX ids take letters, digits and `_`).
pub fn dataflow(org: &str, slug: &str) -> (String, String) {
    let id = |s: &str| s.to_ascii_uppercase().replace('-', "_");
    (id(org), id(slug))
}

/// `AGENCY:ID`, as an SDMX-CSV file's `DATAFLOW` column starts.
pub fn dataflow_ref(org: &str, slug: &str) -> String {
    let (agency, id) = dataflow(org, slug);
    format!("{agency}:{id}")
}

/// A coded concept: its id, its name, its codes with their labels.
type Coded = (String, String, Vec<(String, String)>);

/// Text made safe for XML content and attributes.
fn xml(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// What the structure describes besides the template: its name, version and the labels of
/// its codes and indicators, and the reporting countries with their names.
pub struct Structure<'a> {
    pub org: &'a str,
    pub slug: &'a str,
    pub version: i64,
    pub labels: &'a crate::Labels,
    pub countries: &'a [(String, String)],
    /// When the message is prepared, `YYYY-MM-DDTHH:MM:SS`.
    pub prepared: &'a str,
}

/// The template as an SDMX-ML 2.1 structure message: a code list per dimension (with
/// `REF_AREA` for the reporters' countries and `INDICATOR`), a concept scheme, the data
/// structure definition (dimensions `REF_AREA`, the template's, `INDICATOR`, then
/// `TIME_PERIOD`; the measure `OBS_VALUE`) and its dataflow, which SDMX-CSV returns name.
pub fn structure(t: &crate::Template, s: &Structure<'_>) -> String {
    let (agency, id) = dataflow(s.org, s.slug);
    let version = format!("{}.0", s.version);
    let name = |text: &str| format!("<com:Name xml:lang=\"en\">{}</com:Name>", xml(text));
    let concept_ref = |c: &str| {
        format!("<Ref id=\"{c}\" maintainableParentID=\"CS_{id}\" maintainableParentVersion=\"{version}\" agencyID=\"{agency}\" package=\"conceptscheme\" class=\"Concept\"/>")
    };
    let list_ref = |c: &str| {
        format!("<Ref id=\"CL_{c}\" version=\"{version}\" agencyID=\"{agency}\" package=\"codelist\" class=\"Codelist\"/>")
    };
    let mut coded: Vec<Coded> = vec![(
        "REF_AREA".into(),
        "Reporting country".into(),
        s.countries.to_vec(),
    )];
    for (d, dim) in t.dimensions.iter().enumerate() {
        coded.push((
            dim.name.to_ascii_uppercase(),
            dim.name.clone(),
            s.labels.codes.get(d).cloned().unwrap_or_default(),
        ));
    }
    coded.push((
        "INDICATOR".into(),
        "Indicator".into(),
        t.indicators
            .iter()
            .enumerate()
            .map(|(i, code)| {
                let label = s
                    .labels
                    .indicators
                    .get(i)
                    .filter(|l| !l.is_empty())
                    .unwrap_or(code);
                (code.clone(), label.clone())
            })
            .collect(),
    ));
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<mes:Structure xmlns:mes=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message\" xmlns:str=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure\" xmlns:com=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common\">\n");
    out.push_str(&format!(
        "<mes:Header><mes:ID>{id}</mes:ID><mes:Test>false</mes:Test><mes:Prepared>{}</mes:Prepared><mes:Sender id=\"{agency}\"/></mes:Header>\n<mes:Structures>\n",
        xml(s.prepared)
    ));
    out.push_str(&format!(
        "<str:Dataflows><str:Dataflow id=\"{id}\" agencyID=\"{agency}\" version=\"{version}\">{}<str:Structure><Ref id=\"DSD_{id}\" version=\"{version}\" agencyID=\"{agency}\" package=\"datastructure\" class=\"DataStructure\"/></str:Structure></str:Dataflow></str:Dataflows>\n",
        name(&t.title)
    ));
    out.push_str("<str:Codelists>\n");
    for (concept, label, codes) in &coded {
        out.push_str(&format!(
            "<str:Codelist id=\"CL_{concept}\" agencyID=\"{agency}\" version=\"{version}\">{}",
            name(label)
        ));
        for (code, label) in codes {
            out.push_str(&format!(
                "<str:Code id=\"{}\">{}</str:Code>",
                xml(code),
                name(label)
            ));
        }
        out.push_str("</str:Codelist>\n");
    }
    out.push_str("</str:Codelists>\n");
    out.push_str(&format!(
        "<str:Concepts><str:ConceptScheme id=\"CS_{id}\" agencyID=\"{agency}\" version=\"{version}\">{}",
        name(&format!("Concepts of {}", t.title))
    ));
    for (concept, label, _) in &coded {
        out.push_str(&format!(
            "<str:Concept id=\"{concept}\">{}</str:Concept>",
            name(label)
        ));
    }
    out.push_str(&format!(
        "<str:Concept id=\"TIME_PERIOD\">{}</str:Concept><str:Concept id=\"OBS_VALUE\">{}</str:Concept></str:ConceptScheme></str:Concepts>\n",
        name("Reporting period"),
        name("Count")
    ));
    out.push_str(&format!(
        "<str:DataStructures><str:DataStructure id=\"DSD_{id}\" agencyID=\"{agency}\" version=\"{version}\">{}<str:DataStructureComponents><str:DimensionList id=\"DimensionDescriptor\">",
        name(&t.title)
    ));
    for (i, (concept, _, _)) in coded.iter().enumerate() {
        out.push_str(&format!(
            "<str:Dimension id=\"{concept}\" position=\"{}\"><str:ConceptIdentity>{}</str:ConceptIdentity><str:LocalRepresentation><str:Enumeration>{}</str:Enumeration></str:LocalRepresentation></str:Dimension>",
            i + 1,
            concept_ref(concept),
            list_ref(concept)
        ));
    }
    out.push_str(&format!(
        "<str:TimeDimension id=\"TIME_PERIOD\" position=\"{}\"><str:ConceptIdentity>{}</str:ConceptIdentity><str:LocalRepresentation><str:TextFormat textType=\"ObservationalTimePeriod\"/></str:LocalRepresentation></str:TimeDimension>",
        coded.len() + 1,
        concept_ref("TIME_PERIOD")
    ));
    out.push_str(&format!(
        "</str:DimensionList><str:MeasureList id=\"MeasureDescriptor\"><str:PrimaryMeasure id=\"OBS_VALUE\"><str:ConceptIdentity>{}</str:ConceptIdentity><str:LocalRepresentation><str:TextFormat textType=\"Integer\" minValue=\"0\"/></str:LocalRepresentation></str:PrimaryMeasure></str:MeasureList></str:DataStructureComponents></str:DataStructure></str:DataStructures>\n",
        concept_ref("OBS_VALUE")
    ));
    out.push_str("</mes:Structures>\n</mes:Structure>\n");
    out
}
