//! Flat ΛCDM distances (H0 = 70 km/s/Mpc, Ωm = 0.3; science.md), by numerical integration
//! (Hogg 1999, astro-ph/9905116, eqs. 14–16 and 21).

/// Hubble constant, km/s/Mpc.
pub const H0: f64 = 70.0;
/// Matter density; flat, so Ω_Λ = 1 − Ωm.
pub const OMEGA_M: f64 = 0.3;
/// Speed of light, km/s.
const C_KM_S: f64 = 299_792.458;

/// E(z) = H(z)/H0 for flat ΛCDM.
fn e_of_z(z: f64) -> f64 {
    (OMEGA_M * (1.0 + z).powi(3) + (1.0 - OMEGA_M)).sqrt()
}

/// Comoving distance in Mpc: D_C = (c/H0) ∫₀^z dz'/E(z') (Simpson's rule, 128 intervals: error
/// < 1e-6 relative for z ≤ 5).
pub fn comoving_distance_mpc(z: f64) -> f64 {
    if z <= 0.0 {
        return 0.0;
    }
    const N: usize = 128;
    let h = z / N as f64;
    let mut sum = 1.0 / e_of_z(0.0) + 1.0 / e_of_z(z);
    for i in 1..N {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w / e_of_z(i as f64 * h);
    }
    C_KM_S / H0 * sum * h / 3.0
}

/// Luminosity distance in Mpc: D_L = (1 + z)·D_C (flat universe).
pub fn luminosity_distance_mpc(z: f64) -> f64 {
    (1.0 + z) * comoving_distance_mpc(z)
}

/// Distance modulus μ = 5·log10(D_L / 10 pc).
pub fn distance_modulus(z: f64) -> f64 {
    let d_pc = luminosity_distance_mpc(z) * 1e6;
    if d_pc <= 0.0 {
        return 0.0;
    }
    5.0 * (d_pc / 10.0).log10()
}

/// The redshift at which the distance modulus reaches `mu` (bisection on [1e-5, 10]).
pub fn redshift_for_distance_modulus(mu: f64) -> f64 {
    let (mut lo, mut hi) = (1e-5_f64, 10.0_f64);
    if distance_modulus(lo) >= mu {
        return lo;
    }
    if distance_modulus(hi) <= mu {
        return hi;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if distance_modulus(mid) < mu {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// μ(z) tabulated once on a log grid (z from 1e-4 to 10), for fast per-object sampling.
struct Table {
    log_z: Vec<f64>,
    mu: Vec<f64>,
}

fn table() -> &'static Table {
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        const N: usize = 1024;
        let (lo, hi) = (1e-4_f64.ln(), 10f64.ln());
        let log_z: Vec<f64> = (0..N)
            .map(|i| lo + (hi - lo) * i as f64 / (N - 1) as f64)
            .collect();
        let mu = log_z.iter().map(|l| distance_modulus(l.exp())).collect();
        Table { log_z, mu }
    })
}

/// Linear interpolation of `ys` at `x` in the increasing `xs`, clamped at the ends.
fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let i = xs.partition_point(|v| *v < x);
    if i == 0 {
        return ys[0];
    }
    if i >= xs.len() {
        return ys[ys.len() - 1];
    }
    let w = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    ys[i - 1] + w * (ys[i] - ys[i - 1])
}

/// μ(z) from the table (relative error < 1e-4 for 1e-4 ≤ z ≤ 10); exact formula outside.
pub fn distance_modulus_fast(z: f64) -> f64 {
    if !(1e-4..=10.0).contains(&z) {
        return distance_modulus(z);
    }
    let t = table();
    interpolate(&t.log_z, &t.mu, z.ln())
}

/// Inverse of [`distance_modulus_fast`]: the redshift whose μ is `mu` (clamped to 1e-4 … 10).
pub fn redshift_for_distance_modulus_fast(mu: f64) -> f64 {
    let t = table();
    interpolate(&t.mu, &t.log_z, mu).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_modulus_at_z_0_1() {
        // Flat ΛCDM (70, 0.3): D_L(0.1) ≈ 460 Mpc, μ ≈ 38.3 (e.g. Wright 2006 calculator).
        let mu = distance_modulus(0.1);
        assert!((mu - 38.32).abs() < 0.03, "mu = {mu}");
        assert!((luminosity_distance_mpc(0.1) - 460.0).abs() < 3.0);
        // D_L(1) ≈ 6607 Mpc.
        assert!((luminosity_distance_mpc(1.0) - 6607.0).abs() < 20.0);
    }

    #[test]
    fn inverse_matches() {
        for z in [0.01, 0.1, 0.5, 2.0] {
            let back = redshift_for_distance_modulus(distance_modulus(z));
            assert!((back - z).abs() / z < 1e-6);
            let fast = redshift_for_distance_modulus_fast(distance_modulus(z));
            assert!((fast - z).abs() / z < 1e-3, "{fast} vs {z}");
            assert!((distance_modulus_fast(z) - distance_modulus(z)).abs() < 1e-3);
        }
    }
}
