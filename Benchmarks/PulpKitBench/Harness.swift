/// What every benchmark suite gets: its size and a place to report figures.
struct BenchmarkContext {
    /// Whether to run at a tiny size, as CI's smoke run does.
    let smoke: Bool
    /// Options given with a value, without their dashes (`size`, `workload`, `output` …).
    var options: [String: String] = [:]

    /// Prints one figure as `name value unit`.
    func report(_ name: String, _ value: Double, _ unit: String) {
        let text = value >= 1000 || value == value.rounded() ? String(Int(value.rounded())) : formatted(value)
        print("\(name) \(text) \(unit)")
    }

    private func formatted(_ value: Double) -> String {
        var digits = 3
        var magnitude = abs(value)
        while magnitude >= 10, digits > 0 {
            magnitude /= 10
            digits -= 1
        }
        let scale = Double([1, 10, 100, 1000][digits])
        return String((value * scale).rounded() / scale)
    }

    /// The value given after `--name` on the command line, e.g. `option("feed")` for `--feed URL`.
    func option(_ name: String) -> String? { options[name] }

    /// Picks the full size or the smoke size.
    func size(_ full: Int, smoke smokeSize: Int) -> Int { smoke ? smokeSize : full }
}

/// Measures `body` with the monotonic clock and returns the elapsed seconds.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    let elapsed = clock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Measures an async `body` with the monotonic clock and returns the elapsed seconds.
func measureAsync(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try await body()
    let elapsed = clock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Keeps the optimiser from deleting work whose result is otherwise unused.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
