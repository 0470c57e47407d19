//! Prometheus metrics: request counts and latencies by route, open tenant pools, job queue depth.
//! Gauges that mirror state (open tenants, queue depth) are read at scrape time rather than kept
//! in sync by hand.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::middleware::RouteLabel;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginCallLabels {
    pub kind: String,
    /// `ok` or the error's code (`plugin_out_of_fuel`, `plugin_trap`, ...).
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// Every metric the host exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub open_tenants: Gauge,
    pub job_queue_depth: Gauge,
    pub tenants_total: Gauge,
    pub plugin_calls: Family<PluginCallLabels, Counter>,
    pub plugin_traps: Family<PluginCallLabels, Counter>,
    pub plugin_records_dropped: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("wrk");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 100 µs .. ~3 s: fine-grained where this server should live.
            Histogram::new([
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ])
        });
        let open_tenants = Gauge::default();
        let job_queue_depth = Gauge::default();
        let tenants_total = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            latency.clone(),
        );
        registry.register(
            "tenant_pools_open",
            "Tenant databases open right now (bounded LRU)",
            open_tenants.clone(),
        );
        registry.register(
            "job_queue_depth",
            "Background jobs queued or running",
            job_queue_depth.clone(),
        );
        registry.register("tenants", "Workspaces on this host", tenants_total.clone());
        let plugin_calls = Family::<PluginCallLabels, Counter>::default();
        let plugin_traps = Family::<PluginCallLabels, Counter>::default();
        let plugin_records_dropped = Counter::default();
        registry.register(
            "plugin_calls",
            "Plugin calls by kind and outcome (ok or the error code)",
            plugin_calls.clone(),
        );
        registry.register(
            "plugin_traps",
            "Plugin calls that trapped (fuel, memory, wall time, other traps) by kind and outcome",
            plugin_traps.clone(),
        );
        registry.register(
            "plugin_call_records_dropped",
            "Plugin call samples for shadow runs dropped because the recorder queue was full",
            plugin_records_dropped.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            open_tenants,
            job_queue_depth,
            tenants_total,
            plugin_calls,
            plugin_traps,
            plugin_records_dropped,
        }
    }

    /// Counts one plugin call; traps (fuel, memory, wall time, other traps) are counted twice,
    /// also under `plugin_traps`.
    pub fn plugin_call(&self, kind: &str, outcome: &str) {
        let labels = PluginCallLabels {
            kind: kind.to_owned(),
            outcome: outcome.to_owned(),
        };
        self.plugin_calls.get_or_create(&labels).inc();
        if matches!(
            outcome,
            "plugin_out_of_fuel" | "plugin_memory_limit" | "plugin_timeout" | "plugin_trap"
        ) {
            self.plugin_traps.get_or_create(&labels).inc();
        }
    }

    pub fn plugin_record_dropped(&self) {
        self.plugin_records_dropped.inc();
    }

    /// Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The `method` label: one of the standard methods, or `other` (clients may send any token as a
/// method; each would otherwise be a new series).
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The `status` label: a status this server can send (100..=599), else 0.
fn status_label(status: axum::http::StatusCode) -> u16 {
    match status.as_u16() {
        s @ 100..=599 => s,
        _ => 0,
    }
}

/// Counts and times every request. Every label comes from a bounded set: the method from
/// [`method_label`], the route from the matched route *template* (never the raw path) or
/// `unmatched`, the status from the statuses HTTP defines.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let method = method_label(req.method()).to_owned();
    let outer_route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let start = Instant::now();
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<RouteLabel>()
        .map(|l| l.0.clone())
        .or(outer_route)
        .unwrap_or_else(|| "unmatched".into());
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: status_label(res.status()),
        })
        .inc();
    res
}
