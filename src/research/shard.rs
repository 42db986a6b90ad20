//! Which part of a sweep this process runs: `--shard K/N`, or the index a
//! scheduler gives its array task (Slurm job arrays, Kubernetes Indexed
//! Jobs).
//!
//! Consumes the flag and the environment; produces a [`Shard`]. Set `k`
//! (0-based, in grid order) belongs to shard `k mod N`, so shards are
//! balanced and their union is the whole sweep. Reads only the variables
//! named here.

use std::fmt;

/// Slurm: the task's index within the job array.
pub const SLURM_TASK_ID: &str = "SLURM_ARRAY_TASK_ID";
/// Slurm: the number of tasks in the job array.
pub const SLURM_TASK_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// Slurm: the smallest index of the job array (`--array=1-4` starts at 1).
pub const SLURM_TASK_MIN: &str = "SLURM_ARRAY_TASK_MIN";
/// Kubernetes Indexed Job: the pod's completion index.
pub const K8S_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";
/// The shard count for a Kubernetes Indexed Job (its `completions`), when
/// `--shards` is not given.
pub const SHARDS_ENV: &str = "TE_SWEEP_SHARDS";

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based, below `count`.
    pub index: u32,
    /// At least 1.
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Self = Self { index: 0, count: 1 };

    /// Parses `K/N` (0-based K below N).
    ///
    /// # Errors
    /// A message naming the expected form.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("--shard: expected K/N (0-based), got \"{text}\""))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("--shard: K in \"{text}\" is not a number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard: N in \"{text}\" is not a number"))?;
        Self::checked(index, count, "--shard")
    }

    fn checked(index: u32, count: u32, source: &str) -> Result<Self, String> {
        if count == 0 || index >= count {
            return Err(format!(
                "{source}: shard {index} of {count} does not exist (0 <= K < N)"
            ));
        }
        Ok(Self { index, count })
    }

    /// Returns the shard from the flag, else from the scheduler's
    /// environment (read through `env`), else the whole sweep. `shards` is
    /// the `--shards` count for Kubernetes.
    ///
    /// # Errors
    /// A message naming the flag or variable that is malformed or missing.
    pub fn resolve(
        flag: Option<&str>,
        shards: Option<u32>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        if let Some(text) = flag {
            return Self::parse(text);
        }
        let num = |name: &str| -> Result<Option<u32>, String> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse::<u32>()
                        .map_err(|_| format!("{name}: expected a number, got \"{v}\""))
                })
                .transpose()
        };
        if let Some(id) = num(SLURM_TASK_ID)? {
            let count = num(SLURM_TASK_COUNT)?
                .ok_or_else(|| format!("{SLURM_TASK_ID} is set but {SLURM_TASK_COUNT} is not"))?;
            let min = num(SLURM_TASK_MIN)?.unwrap_or(0);
            let index = id
                .checked_sub(min)
                .ok_or_else(|| format!("{SLURM_TASK_ID}={id} is below {SLURM_TASK_MIN}={min}"))?;
            return Self::checked(index, count, SLURM_TASK_ID);
        }
        if let Some(index) = num(K8S_COMPLETION_INDEX)? {
            let count = match shards {
                Some(n) => n,
                None => num(SHARDS_ENV)?.ok_or_else(|| {
                    format!(
                        "{K8S_COMPLETION_INDEX} is set: give the shard count with --shards or {SHARDS_ENV}"
                    )
                })?,
            };
            return Self::checked(index, count, K8S_COMPLETION_INDEX);
        }
        Ok(Self::ALL)
    }

    /// Returns true when set number `k` (grid order) belongs to this shard.
    #[must_use]
    pub fn owns(self, k: usize) -> bool {
        k as u64 % u64::from(self.count) == u64::from(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn the_flag_wins_then_slurm_then_kubernetes() {
        let none = env(&[]);
        assert_eq!(Shard::resolve(None, None, &none).unwrap(), Shard::ALL);
        assert_eq!(
            Shard::resolve(Some("2/4"), None, &env(&[(SLURM_TASK_ID, "0")])).unwrap(),
            Shard { index: 2, count: 4 }
        );
        let slurm = env(&[
            (SLURM_TASK_ID, "3"),
            (SLURM_TASK_COUNT, "3"),
            (SLURM_TASK_MIN, "1"),
        ]);
        assert_eq!(
            Shard::resolve(None, None, &slurm).unwrap(),
            Shard { index: 2, count: 3 }
        );
        let k8s = env(&[(K8S_COMPLETION_INDEX, "1"), (SHARDS_ENV, "2")]);
        assert_eq!(
            Shard::resolve(None, None, &k8s).unwrap(),
            Shard { index: 1, count: 2 }
        );
        assert_eq!(
            Shard::resolve(None, Some(5), &k8s).unwrap(),
            Shard { index: 1, count: 5 }
        );
    }

    #[test]
    fn bad_shards_are_rejected_naming_the_source() {
        assert!(Shard::parse("4/4").unwrap_err().contains("--shard"));
        assert!(Shard::parse("x").unwrap_err().contains("K/N"));
        let e = Shard::resolve(None, None, &env(&[(SLURM_TASK_ID, "1")])).unwrap_err();
        assert!(e.contains(SLURM_TASK_COUNT), "{e}");
        let e = Shard::resolve(None, None, &env(&[(K8S_COMPLETION_INDEX, "1")])).unwrap_err();
        assert!(e.contains(SHARDS_ENV), "{e}");
    }

    #[test]
    fn shards_partition_the_sets() {
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        for k in 0..30 {
            assert_eq!(shards.iter().filter(|s| s.owns(k)).count(), 1);
        }
    }
}
