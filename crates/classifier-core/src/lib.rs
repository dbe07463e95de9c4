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
pub mod taxonomy;

pub use lightcurve::{LightCurve, Point};
pub use taxonomy::{CLASS_NAMES, N_CLASSES, TopLevel};
