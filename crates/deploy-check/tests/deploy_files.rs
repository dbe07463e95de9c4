//! The deployment files agree with the code: metric names in the Grafana dashboard and the
//! Prometheus rules are ones the code exports, every exported metric is documented, the compose
//! file names every service of the stack, and every setting is documented.

use std::collections::BTreeSet;
use std::path::Path;

use deploy_check::{exported_metrics, metric_tokens, repo_root};
use serde_norway::Value;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn yaml(path: &Path) -> Value {
    let mut value: Value = serde_norway::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
    value
        .apply_merge()
        .unwrap_or_else(|e| panic!("{}: merge keys: {e}", path.display()));
    value
}

/// Every string under a key named `key`, anywhere in a JSON document.
fn json_strings_at(value: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(s) if k == key => out.push(s.clone()),
                    _ => json_strings_at(v, key, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings_at(v, key, out)),
        _ => {}
    }
}

/// Every string under a key named `key`, anywhere in a YAML document.
fn yaml_strings_at(value: &Value, key: &str, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    (Some(k), Value::String(s)) if k == key => out.push(s.clone()),
                    _ => yaml_strings_at(v, key, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| yaml_strings_at(v, key, out)),
        _ => {}
    }
}

fn unknown_metrics(exprs: &[String], exported: &BTreeSet<String>) -> Vec<String> {
    exprs
        .iter()
        .flat_map(|e| metric_tokens(e))
        .filter(|m| !exported.contains(m))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn the_code_exports_the_pipeline_and_api_metrics() {
    let exported = exported_metrics(&repo_root());
    for name in [
        "deeprubin_alerts_consumed_total",
        "deeprubin_consumer_lag",
        "deeprubin_end_to_end_seconds_bucket",
        "deeprubin_healthy",
        "deeprubin_api_requests_total",
        "deeprubin_inference_seconds_bucket",
        "deeprubin_inference_batch_size_bucket",
        "deeprubin_classifications_total",
        "deeprubin_anomaly_score_bucket",
    ] {
        assert!(
            exported.contains(name),
            "{name} not found in crates/*/src: {exported:?}"
        );
    }
}

#[test]
fn dashboards_reference_only_exported_metrics() {
    let root = repo_root();
    let exported = exported_metrics(&root);
    let dir = root.join("deploy/grafana/dashboards");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("deploy/grafana/dashboards") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let dashboard: serde_json::Value = serde_json::from_str(&read(&path))
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let mut exprs = Vec::new();
        json_strings_at(&dashboard, "expr", &mut exprs);
        assert!(!exprs.is_empty(), "{} has no queries", path.display());
        let unknown = unknown_metrics(&exprs, &exported);
        assert!(
            unknown.is_empty(),
            "{} queries metrics the code does not export: {unknown:?}",
            path.display()
        );
        // Panels use the provisioned datasource.
        let mut uids = Vec::new();
        json_strings_at(&dashboard, "uid", &mut uids);
        assert!(
            uids.iter().any(|u| u == "deeprubin-prometheus"),
            "{}: no panel uses the provisioned datasource",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 0, "no dashboard in {}", dir.display());

    let datasources = yaml(&root.join("deploy/grafana/provisioning/datasources/prometheus.yml"));
    let mut uids = Vec::new();
    yaml_strings_at(&datasources, "uid", &mut uids);
    assert_eq!(uids, ["deeprubin-prometheus"]);
}

#[test]
fn alert_rules_reference_only_exported_metrics() {
    let root = repo_root();
    let exported = exported_metrics(&root);
    let rules = yaml(&root.join("deploy/prometheus/rules.yml"));
    let mut exprs = Vec::new();
    yaml_strings_at(&rules, "expr", &mut exprs);
    for required in [
        "deeprubin_consumer_lag",
        "deeprubin_alerts_dead_lettered_total",
        "deeprubin_end_to_end_seconds_bucket",
        "deeprubin_healthy",
        "deeprubin_inference_seconds_bucket",
        "deeprubin_classifications_total",
        "deeprubin_anomaly_score_bucket",
    ] {
        assert!(
            exprs
                .iter()
                .any(|e| metric_tokens(e).iter().any(|m| m == required)),
            "no rule uses {required}"
        );
    }
    let unknown = unknown_metrics(&exprs, &exported);
    assert!(
        unknown.is_empty(),
        "rules.yml uses metrics the code does not export: {unknown:?}"
    );

    // The promtool unit tests feed series of exported metrics too.
    let tests = yaml(&root.join("deploy/prometheus/rules.test.yml"));
    let mut series = Vec::new();
    yaml_strings_at(&tests, "series", &mut series);
    let unknown = unknown_metrics(&series, &exported);
    assert!(
        unknown.is_empty(),
        "rules.test.yml feeds unknown metrics: {unknown:?}"
    );
}

/// The metric families registered by the consumer's and the API's metrics modules (whole
/// `"deeprubin_…"` literals there; tests elsewhere register made-up names).
fn registered_families(root: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in [
        "crates/stream-consumer/src/metrics.rs",
        "crates/api/src/metrics.rs",
    ] {
        let text = read(&root.join(file));
        names.extend(
            metric_tokens(&text)
                .into_iter()
                .filter(|m| text.contains(&format!("\"{m}\""))),
        );
    }
    names
}

#[test]
fn the_dashboard_shows_every_registered_metric() {
    let root = repo_root();
    let families = registered_families(&root);
    for name in [
        "deeprubin_inference_seconds",
        "deeprubin_inference_batch_size",
        "deeprubin_classifications_total",
        "deeprubin_anomaly_score",
    ] {
        assert!(
            families.contains(name),
            "{name} is not registered: {families:?}"
        );
    }
    let dashboard: serde_json::Value = serde_json::from_str(&read(
        &root.join("deploy/grafana/dashboards/deeprubin.json"),
    ))
    .expect("dashboard JSON");
    let mut exprs = Vec::new();
    json_strings_at(&dashboard, "expr", &mut exprs);
    let used: BTreeSet<String> = exprs.iter().flat_map(|e| metric_tokens(e)).collect();
    let shown = |family: &str| {
        used.contains(family)
            || deploy_check::HISTOGRAM_SUFFIXES
                .iter()
                .any(|s| used.contains(&format!("{family}{s}")))
    };
    let missing: Vec<_> = families.iter().filter(|f| !shown(f)).collect();
    assert!(missing.is_empty(), "no dashboard panel shows {missing:?}");
}

/// The anomaly-threshold queries pick the `le` bucket of 0.9, which the Rust client writes as
/// the bound `linear_buckets(0.05, 0.05, 19)` computes, not as "0.9": the regex in the dashboard
/// and the rules must match that string, and the promtool tests must feed it.
#[test]
fn anomaly_threshold_queries_match_the_exported_bucket_bound() {
    let root = repo_root();
    let metrics = read(&root.join("crates/stream-consumer/src/metrics.rs"));
    assert!(
        metrics.contains("linear_buckets(0.05, 0.05, 19)"),
        "deeprubin_anomaly_score buckets changed: update the le regex of the dashboard and rules"
    );
    let bound = format!("{}", 0.05_f64 + 0.05 * 17.0);
    assert_eq!(bound, "0.9000000000000001");
    // The PromQL string "0\\.90*1?" is the regex 0\.90*1?: it matches "0.9" and the bound above.
    let regex = r#"le=~\"0\\\\.90*1?\""#;
    let dashboard = read(&root.join("deploy/grafana/dashboards/deeprubin.json"));
    assert!(dashboard.contains(regex), "dashboard lacks {regex}");
    let rules = read(&root.join("deploy/prometheus/rules.yml"));
    assert!(
        rules.contains(r#"le=~"0\\.90*1?""#),
        "rules.yml lacks the le regex"
    );
    let tests = read(&root.join("deploy/prometheus/rules.test.yml"));
    assert!(
        tests.contains(&format!("le=\"{bound}\"")),
        "rules.test.yml does not feed le=\"{bound}\""
    );
}

#[test]
fn every_exported_metric_is_documented() {
    let root = repo_root();
    let doc = read(&root.join("docs/metrics.md"));
    let documented: BTreeSet<String> = metric_tokens(&doc).into_iter().collect();
    let missing: Vec<_> = exported_metrics(&root)
        .into_iter()
        .filter(|m| {
            !deploy_check::HISTOGRAM_SUFFIXES
                .iter()
                .any(|s| m.ends_with(s))
        })
        .filter(|m| !documented.contains(m))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/metrics.md does not describe {missing:?}"
    );
}

#[test]
fn prometheus_config_parses_and_finds_its_rules() {
    let root = repo_root();
    let config = yaml(&root.join("deploy/prometheus.yml"));
    let rule_files = config["rule_files"].as_sequence().expect("rule_files");
    for file in rule_files {
        let rel = file.as_str().expect("a path");
        assert!(
            root.join("deploy").join(rel).is_file(),
            "rule file {rel} missing next to deploy/prometheus.yml"
        );
    }
    let mut targets = Vec::new();
    for job in config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs")
    {
        for sc in job["static_configs"].as_sequence().into_iter().flatten() {
            for t in sc["targets"].as_sequence().into_iter().flatten() {
                targets.push(t.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    for t in ["consumer:9898", "api:8080"] {
        assert!(
            targets.iter().any(|x| x == t),
            "Prometheus does not scrape {t}"
        );
    }
}

const SERVICES: &[&str] = &[
    "kafka",
    "postgres",
    "schema-registry",
    "migrate",
    "replay",
    "consumer",
    "api",
    "prometheus",
    "grafana",
    "mlflow",
];

#[test]
fn compose_names_every_service_in_order() {
    let root = repo_root();
    let compose = yaml(&root.join("docker-compose.yml"));
    let service_map = compose["services"].as_mapping().expect("services");
    for name in SERVICES {
        assert!(
            service_map.contains_key(*name),
            "docker-compose.yml has no service {name}"
        );
    }
    let services = &compose["services"];
    // One image, built from deploy/Dockerfile, for every deeprubin service.
    for name in ["migrate", "replay", "consumer", "consumer-lsst", "api"] {
        let s = &services[name];
        assert_eq!(
            s["build"]["dockerfile"].as_str(),
            Some("deploy/Dockerfile"),
            "{name}"
        );
    }
    assert_eq!(services["consumer"]["command"][0].as_str(), Some("consume"));
    assert_eq!(services["api"]["command"][0].as_str(), Some("serve"));
    assert_eq!(services["migrate"]["command"][0].as_str(), Some("migrate"));
    // Order: migrations before the consumer and the API; healthy infrastructure first.
    for name in ["consumer", "api"] {
        assert_eq!(
            services[name]["depends_on"]["migrate"]["condition"].as_str(),
            Some("service_completed_successfully"),
            "{name} must wait for migrate"
        );
        assert!(
            services[name]["healthcheck"]["test"].is_sequence(),
            "{name} has no health check"
        );
    }
    assert_eq!(
        services["migrate"]["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    for name in [
        "postgres",
        "kafka",
        "schema-registry",
        "prometheus",
        "grafana",
        "mlflow",
    ] {
        assert!(
            services[name]["healthcheck"]["test"].is_sequence(),
            "{name} has no health check"
        );
    }
    let volumes = compose["volumes"].as_mapping().expect("volumes");
    for v in ["postgres-data", "kafka-data"] {
        assert!(volumes.contains_key(v), "no named volume {v}");
    }
    // Files the stack mounts exist.
    let mut mounts = Vec::new();
    for s in service_map.values() {
        for v in s["volumes"].as_sequence().into_iter().flatten() {
            if let Some(src) = v
                .as_str()
                .and_then(|v| v.split(':').next())
                .filter(|s| s.starts_with("./"))
            {
                mounts.push(src.to_owned());
            }
        }
    }
    assert!(!mounts.is_empty());
    for m in mounts {
        assert!(
            root.join(&m).exists(),
            "docker-compose.yml mounts {m}, which does not exist"
        );
    }
}

/// `${NAME…}` interpolations of a compose file (`$${…}` is a literal dollar, skipped).
fn interpolated_variables(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("${") {
        if at > 0 && bytes[at - 1] == b'$' {
            continue;
        }
        let name: String = text[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_compose_setting_is_in_env_example_and_documented() {
    let root = repo_root();
    let used = interpolated_variables(&read(&root.join("docker-compose.yml")));
    let example = read(&root.join(".env.example"));
    let listed: BTreeSet<String> = example
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect();
    let missing: Vec<_> = used.difference(&listed).collect();
    assert!(missing.is_empty(), ".env.example lacks {missing:?}");
    let unused: Vec<_> = listed.difference(&used).collect();
    assert!(
        unused.is_empty(),
        ".env.example lists variables the compose file ignores: {unused:?}"
    );
    let doc = read(&root.join("docs/configuration.md"));
    let undocumented: Vec<_> = listed
        .iter()
        .filter(|v| !doc.contains(&format!("`{v}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/configuration.md does not describe {undocumented:?}"
    );
}

/// `section.key` for every field of the consumer's TOML sections, read from config.rs.
fn consumer_config_keys(source: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut section: Option<String> = None;
    for line in source.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("pub struct ") {
            let name = rest.split([' ', '{']).next().unwrap_or_default();
            section = name
                .strip_suffix("Config")
                .filter(|s| !s.is_empty() && *s != "Consumer")
                .map(str::to_ascii_lowercase);
            continue;
        }
        if t == "}" {
            section = None;
            continue;
        }
        if let (Some(s), Some(field)) = (&section, t.strip_prefix("pub "))
            && let Some((name, _)) = field.split_once(':')
        {
            keys.push(format!("{s}.{name}"));
        }
    }
    keys
}

#[test]
fn every_consumer_setting_is_documented() {
    let root = repo_root();
    let keys = consumer_config_keys(&read(&root.join("crates/stream-consumer/src/config.rs")));
    assert!(
        keys.contains(&"kafka.brokers".to_owned()) && keys.contains(&"metrics.listen".to_owned()),
        "{keys:?}"
    );
    let doc = read(&root.join("docs/configuration.md"));
    let missing: Vec<_> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not describe {missing:?}"
    );
}

#[test]
fn kubernetes_manifests_parse() {
    let root = repo_root();
    let dir = root.join("deploy/k8s");
    let mut kinds = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("deploy/k8s") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = read(&path);
        for document in serde_norway::Deserializer::from_str(&text) {
            let value = <Value as serde::Deserialize>::deserialize(document)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let kind = value["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: no kind", path.display()));
            assert!(
                value["apiVersion"].is_string(),
                "{}: no apiVersion",
                path.display()
            );
            kinds.insert(kind.to_owned());
            if kind == "Kustomization" {
                for r in value["resources"].as_sequence().expect("resources") {
                    let r = r.as_str().unwrap();
                    assert!(dir.join(r).is_file(), "kustomization lists missing {r}");
                }
            }
        }
    }
    for kind in [
        "Namespace",
        "ConfigMap",
        "Secret",
        "Job",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "ScaledObject",
    ] {
        assert!(kinds.contains(kind), "deploy/k8s has no {kind}");
    }
}
