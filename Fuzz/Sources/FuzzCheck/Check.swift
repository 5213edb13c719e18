/// Stops the fuzz target with `message` unless `condition` holds: libFuzzer reports the crash and saves the input.
///
/// Unlike `precondition`, which drops its message in optimised builds, this always says what was violated.
public func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fail(message(), line: line) }
}

/// Stops the fuzz target with `message`; see ``check(_:_:line:)``.
public func fail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz check failed: \(message)", line: line)
}
