//! Reading the `wrk-plugin` custom section and checking the manifest, reporting every problem
//! at once. The section is found with a minimal walk over the module's top-level sections so
//! the manifest can be read (and reported on) even when compilation fails.

use wrk_plugin_sdk::{ABI_VERSION, MANIFEST_SECTION, Manifest, PluginKind};

fn leb_u32(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        result |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

/// Contents of every custom section called `name`, or `Err` when the bytes are not a module.
pub(crate) fn custom_sections<'a>(wasm: &'a [u8], name: &str) -> Result<Vec<&'a [u8]>, String> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a WebAssembly module (bad magic)".into());
    }
    if wasm[4..8] != [1, 0, 0, 0] {
        return Err("not a core WebAssembly module, version 1 (components are not plugins)".into());
    }
    let mut pos = 8;
    let mut found = Vec::new();
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = leb_u32(wasm, &mut pos).ok_or("truncated section header")? as usize;
        let end = pos
            .checked_add(size)
            .filter(|e| *e <= wasm.len())
            .ok_or("truncated section")?;
        if id == 0 {
            let mut p = pos;
            let len = leb_u32(wasm, &mut p).ok_or("bad custom section name")? as usize;
            let name_end = p
                .checked_add(len)
                .filter(|e| *e <= end)
                .ok_or("bad custom section name")?;
            if &wasm[p..name_end] == name.as_bytes() {
                found.push(&wasm[name_end..end]);
            }
        }
        pos = end;
    }
    Ok(found)
}

/// Reads and checks the manifest; `Err` lists every problem found.
pub fn read_manifest(wasm: &[u8]) -> Result<Manifest, Vec<String>> {
    let sections = custom_sections(wasm, MANIFEST_SECTION).map_err(|e| vec![e])?;
    let raw = match sections.as_slice() {
        [] => {
            return Err(vec![format!(
                "no `{MANIFEST_SECTION}` custom section (manifest missing)"
            )]);
        }
        [one] => *one,
        _ => {
            return Err(vec![format!(
                "{} `{MANIFEST_SECTION}` sections; exactly one is allowed",
                sections.len()
            )]);
        }
    };
    let value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|e| vec![format!("manifest is not valid JSON: {e}")])?;
    let Some(obj) = value.as_object() else {
        return Err(vec!["manifest is not a JSON object".into()]);
    };
    let mut reasons = Vec::new();
    let text = |key: &str| obj.get(key).and_then(|v| v.as_str());
    match text("name") {
        Some(n) if !n.trim().is_empty() && n.len() <= 100 => {}
        _ => reasons
            .push("manifest `name` must be a non-empty string of at most 100 characters".into()),
    }
    match text("kind") {
        Some(k) if PluginKind::parse(k).is_some() => {}
        Some(k) => reasons.push(format!(
            "manifest `kind` {k:?} is not one of pricing, validation, ingestion"
        )),
        None => reasons.push("manifest `kind` is missing".into()),
    }
    match text("version") {
        Some(v) if semver::Version::parse(v).is_ok() => {}
        Some(v) => reasons.push(format!(
            "manifest `version` {v:?} is not semver (e.g. 1.2.0)"
        )),
        None => reasons.push("manifest `version` is missing".into()),
    }
    match obj.get("abi").and_then(|v| v.as_u64()) {
        Some(a) if a == u64::from(ABI_VERSION) => {}
        Some(a) => reasons.push(format!(
            "manifest `abi` is {a}; this host speaks abi {ABI_VERSION}"
        )),
        None => reasons.push("manifest `abi` is missing or not a number".into()),
    }
    if obj.get("description").is_some_and(|d| !d.is_string()) {
        reasons.push("manifest `description` must be a string".into());
    }
    for key in obj.keys() {
        if !["name", "kind", "version", "abi", "description"].contains(&key.as_str()) {
            reasons.push(format!("manifest has an unknown field `{key}`"));
        }
    }
    if !reasons.is_empty() {
        return Err(reasons);
    }
    serde_json::from_value(value).map_err(|e| vec![format!("manifest: {e}")])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal module: header + one custom section per given manifest.
    fn module_with(manifests: &[&str]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        for json in manifests {
            let mut body = vec![MANIFEST_SECTION.len() as u8];
            body.extend_from_slice(MANIFEST_SECTION.as_bytes());
            body.extend_from_slice(json.as_bytes());
            m.push(0);
            let mut len = body.len();
            loop {
                let byte = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    m.push(byte);
                    break;
                }
                m.push(byte | 0x80);
            }
            m.extend_from_slice(&body);
        }
        m
    }

    #[test]
    fn a_valid_manifest_is_read() {
        let m = read_manifest(&module_with(&[
            r#"{"name":"p","kind":"pricing","version":"1.2.3-beta.1","abi":1,"description":"d"}"#,
        ]))
        .unwrap();
        assert_eq!(
            (m.name.as_str(), m.kind, m.version.as_str()),
            ("p", PluginKind::Pricing, "1.2.3-beta.1")
        );
    }

    #[test]
    fn every_manifest_problem_is_reported() {
        let reasons = read_manifest(&module_with(&[
            r#"{"kind":"x","version":"1.0","abi":"1","extra":true}"#,
        ]))
        .unwrap_err();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
    }

    #[test]
    fn missing_duplicate_and_garbage_sections_are_refused() {
        assert!(read_manifest(&module_with(&[])).unwrap_err()[0].contains("missing"));
        let two = r#"{"name":"p","kind":"pricing","version":"1.0.0","abi":1}"#;
        assert!(read_manifest(&module_with(&[two, two])).unwrap_err()[0].contains("exactly one"));
        assert!(
            read_manifest(&module_with(&["not json"])).unwrap_err()[0].contains("not valid JSON")
        );
        assert!(read_manifest(b"\x7fELF....").unwrap_err()[0].contains("magic"));
        let mut truncated = module_with(&[two]);
        truncated.truncate(truncated.len() - 3);
        assert!(read_manifest(&truncated).is_err());
    }
}
