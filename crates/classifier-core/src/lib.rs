//! Light-curve classification for the broker.
//!
//! Preprocessing (a 2-D Gaussian process over time × wavelength), Burn models (Transformer and GRU),
//! training with experiment tracking, evaluation, batched inference with MC-dropout uncertainty and
//! an embedding-based anomaly score.

pub mod csv;
pub mod features;
pub mod gp;
pub mod lightcurve;
pub mod metrics;
pub mod periodogram;
pub mod simbad;
pub mod taxonomy;

pub use lightcurve::{LightCurve, Point};
pub use taxonomy::{CLASS_NAMES, N_CLASSES, TopLevel};

pub mod allocator;
pub mod anomaly;
pub mod batch;
pub mod calibration;
pub mod data;
pub mod inference;
pub mod members;
pub mod model;
pub mod outlier_energy;
pub mod outliers;
pub mod plot;
pub mod priors;
pub mod tracking;

pub use inference::{Classifier, ModelError, Prediction, default_device, device_by_name};
pub use priors::ClassPriors;
pub mod evaluate;
pub mod throughput;
pub mod train;
