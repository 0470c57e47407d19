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
