extension Result where Failure == any Error {
    /// The outcome of an asynchronous throwing call: its value, or the error it threw.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
