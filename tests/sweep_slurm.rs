//! The shipped Slurm job array (`tools/deploy/slurm/sweep.sbatch`) against a
//! real single-node Slurm: munged, slurmctld and slurmd (Debian's `munge`
//! and `slurm-wlm`) started on 127.0.0.1 in a temporary directory, the
//! script submitted with `sbatch`, its dependent merge job awaited, and the
//! merged `results.csv` compared byte for byte with an unsharded run.
//!
//! When the daemons are not installed or slurmd cannot start here (not
//! root, no loopback), the test prints why and falls back to running the
//! shards as N processes with the Slurm array variables set, then merges
//! and compares the same way. It prints which of the two ran.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use trading_engine::config::Config;
use trading_engine::datafile::synthetic;

const ENGINE: &str = env!("CARGO_BIN_EXE_trading-engine");
const SHARDS: u32 = 3;
const GRID: &str = "[sweep]\nobjective = \"sharpe\"\n[params]\nrisk.cooldown_minutes = [10, 20, 30, 40]\nsizing.base_risk_pct = [0.5, 1.0]\n";

/// Kills the daemons it holds when dropped.
struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn have(tool: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists())
}

fn inputs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let data = dir.join("klines.csv");
    let mut f = std::fs::File::create(&data).unwrap();
    synthetic::write_klines_csv(&mut f, 5, synthetic::DEFAULT_START_MS, 2 * 1440).unwrap();
    let mut cfg = Config::default();
    cfg.strategies.mtf_long.breakout_lookback = 5;
    cfg.strategies.mtf_long.ema_fast_period = 2;
    cfg.strategies.mtf_long.ema_slow_period = 4;
    cfg.strategies.mtf_long.body_atr_mult = 0.8;
    cfg.strategies.mtf_long.volume_mult = 1.2;
    let config = dir.join("config.toml");
    std::fs::write(&config, cfg.to_toml_string().unwrap()).unwrap();
    let grid = dir.join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    (data, config, grid)
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("{what} not reached within {} s", limit.as_secs()))
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// Starts munge and Slurm in `dir`; returns the daemons and the slurm.conf.
fn start_slurm(dir: &Path) -> Result<(Daemons, PathBuf), String> {
    for tool in ["munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue"] {
        if !have(tool) {
            return Err(format!(
                "{tool} is not installed (Debian packages munge, slurm-wlm)"
            ));
        }
    }
    let munge = dir.join("munge");
    std::fs::create_dir_all(&munge).unwrap();
    let key: Vec<u8> = (0..1024u32)
        .map(|k| (k.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let key_path = munge.join("munge.key");
    std::fs::write(&key_path, key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&munge, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o400)).unwrap();
    let socket = munge.join("sock");
    let mut daemons = Daemons(Vec::new());
    let spawn = |cmd: &mut Command| {
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{cmd:?}: {e}"))
    };
    daemons.0.push(spawn(
        Command::new("munged")
            .args(["-F", "-f"])
            .arg(format!("--key-file={}", key_path.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", munge.join("pid").display()))
            .arg(format!("--log-file={}", munge.join("log").display()))
            .arg(format!("--seed-file={}", munge.join("seed").display())),
    )?);
    wait_for("munge socket", Duration::from_secs(10), || socket.exists())
        .map_err(|e| format!("munged: {e}: {}", tail(&munge.join("log"))))?;
    for sub in ["state", "spool", "log"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let d = dir.display();
    let conf = format!(
        "ClusterName=tetest\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort={}\nSlurmdPort={}\n\
SlurmUser=root\nSlurmdUser=root\nAuthType=auth/munge\nAuthInfo=socket={}\nCredType=cred/munge\n\
StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\nSlurmctldPidFile={d}/slurmctld.pid\n\
SlurmdPidFile={d}/slurmd.pid\nSlurmctldLogFile={d}/log/slurmctld.log\nSlurmdLogFile={d}/log/slurmd.log\n\
ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSelectType=select/cons_tres\n\
SelectTypeParameters=CR_CPU\nSchedulerType=sched/builtin\nJobAcctGatherType=jobacct_gather/none\n\
AccountingStorageType=accounting_storage/none\nJobCompType=jobcomp/none\nMpiDefault=none\n\
ReturnToService=2\nNodeName=localhost NodeAddr=127.0.0.1 CPUs=1 State=UNKNOWN\n\
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n",
        free_port(),
        free_port(),
        socket.display()
    );
    let conf_path = dir.join("slurm.conf");
    std::fs::write(&conf_path, conf).unwrap();
    daemons.0.push(spawn(
        Command::new("slurmctld")
            .args(["-D", "-i", "-f"])
            .arg(&conf_path)
            .env("SLURM_CONF", &conf_path),
    )?);
    daemons.0.push(spawn(
        Command::new("slurmd")
            .args(["-D", "-N", "localhost", "-f"])
            .arg(&conf_path)
            .env("SLURM_CONF", &conf_path),
    )?);
    wait_for("an idle Slurm node", Duration::from_secs(45), || {
        Command::new("sinfo")
            .args(["-h", "-o", "%t"])
            .env("SLURM_CONF", &conf_path)
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
    })
    .map_err(|e| {
        format!(
            "{e}; slurmctld: {} slurmd: {}",
            tail(&dir.join("log/slurmctld.log")),
            tail(&dir.join("log/slurmd.log"))
        )
    })?;
    Ok((daemons, conf_path))
}

fn unsharded(data: &Path, config: &Path, grid: &Path, out: &Path) -> String {
    let o = Command::new(ENGINE)
        .args(["sweep", "--quiet", "--jobs", "2", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .arg("--grid")
        .arg(grid)
        .arg("--out")
        .arg(out)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out.join("results.csv")).unwrap()
}

#[test]
fn the_shipped_job_array_merges_to_the_unsharded_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (data, config, grid) = inputs(dir);
    let expected = unsharded(&data, &config, &grid, &dir.join("whole"));
    let out = dir.join("array");
    let merged = out.join("merged").join("results.csv");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/deploy/slurm/sweep.sbatch");
    match start_slurm(&dir.join("slurm")) {
        Ok((_daemons, conf)) => {
            println!(
                "sweep_slurm: REAL Slurm (single node on 127.0.0.1), sbatch {}",
                script.display()
            );
            let exports = format!(
                "ALL,SLURM_CONF={},TE_BIN={ENGINE},TE_DATA={},TE_GRID={},TE_OUT={},TE_CONFIG={},TE_JOBS=1",
                conf.display(),
                data.display(),
                grid.display(),
                out.display(),
                config.display()
            );
            let o = Command::new("sbatch")
                .arg(format!("--array=0-{}", SHARDS - 1))
                .arg("--cpus-per-task=1")
                .arg(format!("--export={exports}"))
                .arg(format!("--chdir={}", dir.display()))
                .arg(format!("--output={}/task-%a.log", dir.display()))
                .arg(&script)
                .env("SLURM_CONF", &conf)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "sbatch: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let done = wait_for(
                "the merge job's results.csv",
                Duration::from_secs(240),
                || out.join("merged/summary.json").exists(),
            );
            if let Err(e) = done {
                let logs: Vec<String> = (0..SHARDS)
                    .map(|k| tail(&dir.join(format!("task-{k}.log"))))
                    .collect();
                panic!(
                    "{e}; tasks: {logs:?}; merge: {}",
                    tail(&out.join("merge.log"))
                );
            }
            // Let the merge job's step finish before the daemons stop, so no
            // slurmstepd outlives the test.
            let drained = wait_for("an empty Slurm queue", Duration::from_secs(30), || {
                Command::new("squeue")
                    .arg("-h")
                    .env("SLURM_CONF", &conf)
                    .output()
                    .is_ok_and(|o| o.status.success() && o.stdout.is_empty())
            });
            if let Err(e) = drained {
                println!("sweep_slurm: {e} (the daemons are stopped anyway)");
            }
        }
        Err(why) => {
            println!("sweep_slurm: FALLBACK to {SHARDS} processes with SLURM_ARRAY_* set: Slurm could not start: {why}");
            for k in 0..SHARDS {
                let o = Command::new(ENGINE)
                    .args(["sweep", "--quiet", "--jobs", "1", "--data"])
                    .arg(&data)
                    .arg("--config")
                    .arg(&config)
                    .arg("--grid")
                    .arg(&grid)
                    .arg("--out")
                    .arg(out.join(format!("shard-{k}")))
                    .env("SLURM_ARRAY_TASK_ID", k.to_string())
                    .env("SLURM_ARRAY_TASK_COUNT", SHARDS.to_string())
                    .env("SLURM_ARRAY_TASK_MIN", "0")
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            }
            let o = Command::new(ENGINE)
                .args(["sweep", "merge"])
                .args((0..SHARDS).map(|k| out.join(format!("shard-{k}"))))
                .arg("--out")
                .arg(out.join("merged"))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    for k in 0..SHARDS {
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("shard-{k}/sweep.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(m["shard"], format!("{k}/{SHARDS}"));
    }
    assert_eq!(expected, std::fs::read_to_string(merged).unwrap());
}
