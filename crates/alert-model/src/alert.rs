//! The survey-agnostic alert: what every downstream stage (store, stream, classifier, API) reads.

use serde::{Deserialize, Serialize};

use crate::{AbMagnitude, Band, FluxNjy, Mjd, ObjectId, SourceId, Survey};

/// One decoded alert packet: the triggering detection plus the history the survey sent with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub survey: Survey,
    pub object_id: ObjectId,
    /// Schema version of the packet (`schemavsn` for ZTF, `major.minor` for Rubin).
    pub schema_version: String,
    /// The detection that triggered this alert.
    pub candidate: Detection,
    /// Earlier detections the packet carries (ZTF `prv_candidates` with a candid; Rubin
    /// `prvDiaSources`), in packet order.
    pub previous_detections: Vec<Detection>,
    pub forced_photometry: Vec<ForcedPhotometry>,
    pub upper_limits: Vec<UpperLimit>,
    pub cutouts: Cutouts,
    /// The known solar-system object the survey associated with the triggering detection, if any.
    #[serde(default)]
    pub solar_system: Option<SolarSystemMatch>,
}

impl Alert {
    /// The triggering source id (ZTF `candid`, Rubin `diaSourceId`).
    pub fn source_id(&self) -> SourceId {
        self.candidate.source_id
    }

    /// All detections in the packet, the triggering one last.
    pub fn detections(&self) -> impl Iterator<Item = &Detection> {
        self.previous_detections
            .iter()
            .chain(std::iter::once(&self.candidate))
    }

    pub fn n_detections(&self) -> usize {
        self.previous_detections.len() + 1
    }
}

/// A known asteroid or comet at the triggering detection's position: ZTF's match to the MPC's
/// ephemerides (`ssnamenr`, `ssdistnr`, `ssmagnr`; candidate.avsc), Rubin's association of the
/// diaSource with an `ssObjectId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolarSystemMatch {
    /// MPC designation (ZTF) or Rubin `ssObjectId`.
    pub name: String,
    /// Distance from the detection (arcsec); ZTF reports matches within 30″, Rubin none.
    pub distance_arcsec: Option<f64>,
    /// Predicted V magnitude (ZTF `ssmagnr`).
    pub magnitude_v: Option<f64>,
}

impl SolarSystemMatch {
    /// Radius within which a detection is taken to be the known object. ZTF's astrometry is
    /// good to ≈ 0.1″ and MPC ephemerides of known objects to ≲ 1″, so real matches sit at 0–1″
    /// (76 of the 78 matches in the shared ZTF sample); ZTF lists anything within 30″.
    pub const SAME_OBJECT_ARCSEC: f64 = 5.0;

    /// Whether the detection is the known object rather than a neighbour of it.
    pub fn is_same_object(&self) -> bool {
        self.distance_arcsec
            .is_none_or(|d| d <= Self::SAME_OBJECT_ARCSEC)
    }
}

/// A difference-image detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub source_id: SourceId,
    pub mjd: Mjd,
    pub band: Band,
    pub ra: f64,
    pub dec: f64,
    /// Signed difference flux (positive: brighter than the template).
    pub flux: FluxNjy,
    pub flux_err: FluxNjy,
    /// The magnitude the survey reported, where it reports one (ZTF `magpsf`/`sigmapsf`).
    pub mag: Option<AbMagnitude>,
    pub quality: DetectionQuality,
}

/// Real-bogus scores and flags, as the survey computed them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionQuality {
    /// ZTF `rb` (random forest real-bogus, 0 = bogus, 1 = real).
    pub real_bogus: Option<f64>,
    /// ZTF `drb` (deep-learning real-bogus, Duev et al. 2019).
    pub deep_real_bogus: Option<f64>,
    /// Rubin `reliability`.
    pub reliability: Option<f64>,
    /// ZTF `nbad`: bad pixels within 5×5 pixels.
    pub n_bad_pixels: Option<i64>,
    /// ZTF `fwhm` (pixels).
    pub fwhm: Option<f64>,
    /// ZTF `magzpsci`: photometric zero point of the science image.
    pub zero_point: Option<f64>,
    /// ZTF `programid` (1 public, 2 partnership, 3 Caltech).
    pub program_id: Option<i64>,
    /// Rubin `snr`.
    pub snr: Option<f64>,
    /// Rubin pixel flags: any of saturated/bad/cosmic ray at the centre.
    pub flagged: Option<bool>,
}

/// A forced-photometry measurement at a known position (ZTF `fp_hists`, Rubin `prvDiaForcedSources`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForcedPhotometry {
    /// Rubin `diaForcedSourceId`; ZTF forced photometry has no id.
    pub source_id: Option<SourceId>,
    pub mjd: Mjd,
    pub band: Band,
    pub flux: FluxNjy,
    pub flux_err: FluxNjy,
    /// ZTF `procstatus` ("0" = success); Rubin: none.
    pub status: Option<String>,
}

/// A non-detection: the 5σ limiting magnitude of the difference image at that epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpperLimit {
    pub mjd: Mjd,
    pub band: Band,
    /// ZTF `diffmaglim` (AB).
    pub limiting_mag: f64,
}

impl UpperLimit {
    /// The 5σ flux limit in nJy.
    pub fn flux_limit(&self) -> FluxNjy {
        FluxNjy::from_ab_mag(self.limiting_mag)
    }
}

/// Image stamps around the source, kept exactly as the packet carried them (gzip-compressed FITS for
/// ZTF); decompressed only when someone asks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cutouts {
    pub science: Option<Cutout>,
    pub template: Option<Cutout>,
    pub difference: Option<Cutout>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cutout {
    pub file_name: Option<String>,
    #[serde(skip)]
    pub compressed: Vec<u8>,
}

impl Cutout {
    /// The FITS bytes: gunzipped when the stamp is gzip-compressed, else the bytes as they are.
    pub fn decompress(&self) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        if self.compressed.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::with_capacity(self.compressed.len() * 4);
            flate2::read::MultiGzDecoder::new(&self.compressed[..]).read_to_end(&mut out)?;
            Ok(out)
        } else {
            Ok(self.compressed.clone())
        }
    }
}
