//! `deeprubin demo`: the whole broker on the embedded default — simulated ZTF and Rubin alerts (or a
//! folder of real ones), the in-process store, the shipped model, and the API on localhost.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use alert_model::{Alert, AlertDecoder, Survey};
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use store::{MemoryStore, StateStore};
use stream_consumer::classify::{ModelHandle, resolve_model_dir};
use stream_consumer::embedded::store_and_classify;

use super::{runtime, schemas};
use crate::cli::SchemaArgs;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the API listens while (and, with --keep, after) the alerts are processed.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Keep serving the API until Ctrl-C.
    #[arg(long)]
    pub keep: bool,
    /// Replay this folder of alert files instead of simulating.
    #[arg(long)]
    pub alerts: Option<PathBuf>,
    #[command(flatten)]
    pub schemas: SchemaArgs,
    /// Simulated objects per class and survey (the default finishes in well under 30 s on 2 cores).
    #[arg(long, default_value_t = 10)]
    pub objects_per_class: usize,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Model folder (default: the shipped models/default).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Alerts stored and classified together.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
}

/// Simulated alert packets of both surveys, encoded and decoded again as the stream would see them,
/// in time order.
fn simulated_alerts(args: &DemoArgs) -> anyhow::Result<Vec<Alert>> {
    let mut classes = simulator::Class::ALL_TRAINING.to_vec();
    classes.extend(simulator::Class::ANOMALIES);
    let config = simulator::SimulationConfig {
        seed: args.seed,
        surveys: vec![Survey::Ztf, Survey::Lsst],
        objects_per_class: args.objects_per_class,
        classes,
        duration_days: 120.0,
        ..simulator::SimulationConfig::default()
    };
    let decoder = AlertDecoder::new();
    let mut alerts = Vec::new();
    for object in simulator::simulate(&config) {
        for alert in simulator::alerts_for(&object)? {
            let packet = alert_model::encode::survey_packet(&alert)?;
            alerts.extend(decoder.decode(&packet)?);
        }
    }
    alerts.sort_by(|a, b| a.candidate.mjd.0.total_cmp(&b.candidate.mjd.0));
    Ok(alerts)
}

fn folder_alerts(dir: &PathBuf, args: &DemoArgs) -> anyhow::Result<Vec<Alert>> {
    let decoder = schemas::decoder(&args.schemas)?;
    let mut alerts = Vec::new();
    for path in schemas::alert_files(std::slice::from_ref(dir))? {
        let bytes = std::fs::read(&path)?;
        match decoder.decode(&bytes) {
            Ok(decoded) => alerts.extend(decoded),
            Err(e) => eprintln!("skipped {}: {e}", path.display()),
        }
    }
    alerts.sort_by(|a, b| a.candidate.mjd.0.total_cmp(&b.candidate.mjd.0));
    Ok(alerts)
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let model_dir = resolve_model_dir(args.model.as_deref())?;
    let model = ModelHandle::load(&model_dir, "cpu", 4, 256)?;
    let alerts = match &args.alerts {
        Some(dir) => folder_alerts(dir, &args)?,
        None => simulated_alerts(&args)?,
    };
    anyhow::ensure!(!alerts.is_empty(), "no alerts to process");
    runtime()?.block_on(async move {
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {} (use --listen)", args.listen))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = api::AppState::new(Arc::clone(&store), api::ApiConfig::default());
        let server = tokio::spawn(api::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        let base = format!("http://{}", args.listen);
        println!("model {} ({}), API at {base}", model.name, model.version);

        let bar = ProgressBar::new(alerts.len() as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} alerts [{elapsed}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let started = Instant::now();
        let mut anomalies_seen = 0usize;
        for chunk in alerts.chunks(args.batch_size.max(1)) {
            let predictions = store_and_classify(store.as_ref(), &model, chunk).await?;
            anomalies_seen += predictions.iter().filter(|p| p.anomaly_score > 0.9).count();
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();

        // Objects by their latest class.
        let mut classes: BTreeMap<String, usize> = BTreeMap::new();
        let mut query = store::SearchQuery { limit: store::MAX_SEARCH_LIMIT, ..Default::default() };
        loop {
            let page = store.search(&query).await?;
            for object in &page.objects {
                if let Some(latest) = &object.latest_classification {
                    *classes.entry(latest.class.clone()).or_default() += 1;
                }
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        let stats = store.stats().await?;
        println!(
            "processed {} alerts of {} objects in {seconds:.1} s ({:.0} alerts/s), {} classifications, {anomalies_seen} updates with anomaly score > 0.9",
            alerts.len(),
            stats.objects,
            alerts.len() as f64 / seconds.max(1e-9),
            stats.classifications,
        );
        let mut by_count: Vec<_> = classes.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        println!(
            "objects by latest class: {}",
            by_count.iter().map(|(c, n)| format!("{c}={n}")).collect::<Vec<_>>().join(" ")
        );
        println!("highest anomaly scores:");
        for object in store.top_anomalies(5).await? {
            if let Some(latest) = &object.latest_classification {
                println!(
                    "  {:.3}  {:<5} {:<22} {:<14} {base}/objects/{}",
                    latest.anomaly_score, object.survey, object.object_id, latest.class, object.object_id
                );
            }
        }
        if args.keep {
            println!("serving {base} until Ctrl-C (try {base}/docs)");
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = stop.send(());
        let _ = server.await;
        Ok(ExitCode::SUCCESS)
    })
}
