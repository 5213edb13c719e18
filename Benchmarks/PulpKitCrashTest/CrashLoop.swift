import Foundation

/// The parent of a crash run: starts a writer child on the data directory, kills it with SIGKILL after a
/// random delay, checks the store in a fresh verifier process, and again, on the same directory.
struct CrashLoop {
    let iterations: Int
    /// Holds `data/` (the Pulp directory) and `side.log`; kept between iterations.
    let workDirectory: URL
    /// The range of the delay before each kill, in milliseconds.
    var killDelay: ClosedRange<Int> = 50...500

    struct Totals {
        var iterations = 0
        var lostWrites = 0
        var openFailures = 0
        var tornFiles = 0
        var acknowledged = 0
    }

    func run() throws -> Totals {
        let data = workDirectory.appendingPathComponent("data", isDirectory: true).path
        let log = workDirectory.appendingPathComponent("side.log").path
        var totals = Totals()
        for iteration in 1...iterations {
            let writer = try ChildProcess(["--writer", data, "--log", log])
            usleep(UInt32(Int.random(in: killDelay) * 1000))
            let survived = writer.isRunning
            writer.kill()
            let (status, _) = writer.finish()
            if !survived, !writer.wasKilled {
                // It exited on its own: it could not open or write the stores.
                totals.openFailures += 1
                warn("iteration \(iteration): the writer exited with status \(status) before it was killed")
            }
            let verifier = try ChildProcess(["--verify", data, "--log", log])
            let (verified, output) = verifier.finish()
            let found = figures(in: output)
            guard verified == 0, let lost = found["lost_writes"], let torn = found["torn_files"],
                let openFailed = found["open_failures"]
            else {
                throw CrashTestError("iteration \(iteration): the verifier failed (status \(verified)): \(output)")
            }
            totals.iterations = iteration
            totals.lostWrites += lost
            totals.tornFiles += torn
            totals.openFailures += openFailed
            totals.acknowledged = found["acknowledged"] ?? 0
            if lost + torn + openFailed > 0 {
                warn("iteration \(iteration): \(lost) lost, \(torn) torn, \(openFailed) open failures (details above)")
            }
        }
        return totals
    }
}

/// Writes a line to standard error.
func warn(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
