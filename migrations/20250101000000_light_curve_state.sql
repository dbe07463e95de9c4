-- Light-curve state: one row per object plus its measurements, keyed by the survey's own ids so
-- that replaying an alert inserts nothing (architecture.md, "The flow of one alert").
-- Units: MJD (days), fluxes in nJy (difference flux, signed), magnitudes AB.

CREATE TABLE objects (
    survey               text COLLATE "C" NOT NULL CHECK (survey IN ('ztf', 'lsst')),
    object_id            text COLLATE "C" NOT NULL,
    -- Position of the latest detection (max mjd, then max source id): a mean RA breaks at 0/360.
    ra                   double precision NOT NULL,
    dec                  double precision NOT NULL,
    first_mjd            double precision NOT NULL,
    last_mjd             double precision NOT NULL,
    n_detections         integer          NOT NULL DEFAULT 0,
    n_det_u              integer          NOT NULL DEFAULT 0,
    n_det_g              integer          NOT NULL DEFAULT 0,
    n_det_r              integer          NOT NULL DEFAULT 0,
    n_det_i              integer          NOT NULL DEFAULT 0,
    n_det_z              integer          NOT NULL DEFAULT 0,
    n_det_y              integer          NOT NULL DEFAULT 0,
    n_forced_photometry  integer          NOT NULL DEFAULT 0,
    n_upper_limits       integer          NOT NULL DEFAULT 0,
    -- Copy of the most recently recorded classification, so search needs no join.
    latest_class         text,
    latest_probability   double precision,
    latest_anomaly_score double precision,
    latest_model_name    text,
    latest_model_version text,
    classified_at        timestamptz,
    created_at           timestamptz      NOT NULL DEFAULT now(),
    updated_at           timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (survey, object_id)
);

-- Keyset pagination of search: newest activity first, (survey, object_id) breaks ties.
CREATE INDEX objects_last_mjd ON objects (last_mjd DESC, survey, object_id);
CREATE INDEX objects_latest_class ON objects (latest_class, latest_probability DESC)
    WHERE latest_class IS NOT NULL;
CREATE INDEX objects_anomaly ON objects (latest_anomaly_score DESC, survey, object_id)
    WHERE latest_anomaly_score IS NOT NULL;

CREATE TABLE detections (
    survey          text COLLATE "C" NOT NULL,
    source_id       bigint           NOT NULL,
    object_id       text COLLATE "C" NOT NULL,
    mjd             double precision NOT NULL,
    band            text             NOT NULL CHECK (band IN ('u', 'g', 'r', 'i', 'z', 'y')),
    ra              double precision NOT NULL,
    dec             double precision NOT NULL,
    flux            double precision NOT NULL,
    flux_err        double precision NOT NULL,
    mag             double precision,
    mag_err         double precision,
    real_bogus      double precision,
    deep_real_bogus double precision,
    reliability     double precision,
    n_bad_pixels    bigint,
    fwhm            double precision,
    zero_point      double precision,
    program_id      bigint,
    snr             double precision,
    flagged         boolean,
    PRIMARY KEY (survey, source_id),
    FOREIGN KEY (survey, object_id) REFERENCES objects (survey, object_id)
);
CREATE INDEX detections_object_mjd ON detections (survey, object_id, mjd);

CREATE TABLE forced_photometry (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey    text COLLATE "C" NOT NULL,
    object_id text COLLATE "C" NOT NULL,
    -- Rubin diaForcedSourceId; ZTF forced photometry carries no id.
    source_id bigint,
    mjd       double precision NOT NULL,
    band      text             NOT NULL CHECK (band IN ('u', 'g', 'r', 'i', 'z', 'y')),
    flux      double precision NOT NULL,
    flux_err  double precision NOT NULL,
    status    text,
    FOREIGN KEY (survey, object_id) REFERENCES objects (survey, object_id)
);
-- A point is identified by its source id when it has one, else by object, epoch and band.
CREATE UNIQUE INDEX forced_photometry_source ON forced_photometry (survey, source_id)
    WHERE source_id IS NOT NULL;
CREATE UNIQUE INDEX forced_photometry_epoch ON forced_photometry (survey, object_id, mjd, band)
    WHERE source_id IS NULL;
CREATE INDEX forced_photometry_object_mjd ON forced_photometry (survey, object_id, mjd);

CREATE TABLE upper_limits (
    survey       text COLLATE "C" NOT NULL,
    object_id    text COLLATE "C" NOT NULL,
    mjd          double precision NOT NULL,
    band         text             NOT NULL CHECK (band IN ('u', 'g', 'r', 'i', 'z', 'y')),
    limiting_mag double precision NOT NULL,
    PRIMARY KEY (survey, object_id, mjd, band),
    FOREIGN KEY (survey, object_id) REFERENCES objects (survey, object_id)
);

-- History is never overwritten: one row per (object, triggering source, model); replays collide.
CREATE TABLE classifications (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey                  text COLLATE "C" NOT NULL,
    object_id               text COLLATE "C" NOT NULL,
    source_id               bigint           NOT NULL,
    model_name              text             NOT NULL,
    model_version           text             NOT NULL,
    probabilities           jsonb            NOT NULL,
    top_level_probabilities jsonb            NOT NULL,
    predicted_class         text             NOT NULL,
    probability             double precision NOT NULL,
    uncertainty             double precision NOT NULL,
    anomaly_score           double precision NOT NULL,
    created_at              timestamptz      NOT NULL DEFAULT now(),
    UNIQUE (survey, object_id, source_id, model_name, model_version),
    FOREIGN KEY (survey, object_id) REFERENCES objects (survey, object_id)
);
