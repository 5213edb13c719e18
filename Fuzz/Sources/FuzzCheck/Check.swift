/// Stops the fuzz target with `message` unless `condition` holds: libFuzzer reports the crash and saves the input.
///
/// Unlike `precondition`, which drops its message in optimised builds, this always says what was violated.
public func check(
    _ condition: Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition { fail(message(), file: file, line: line) }
}

/// Stops the fuzz target with `message`; see ``check(_:_:file:line:)``.
public func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("fuzz check failed: \(message)", file: file, line: line)
}
