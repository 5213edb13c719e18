import Foundation
import Testing

@testable import PulpKit

/// The storage backends every store test runs against, like Hummingbird's testing setups.
enum StorageBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite

    var testDescription: String { rawValue }

    /// A new, empty task store; SQLite files live in `directory`.
    func taskStore(in directory: borrowing TemporaryDirectory) throws -> any TaskStore {
        switch self {
        case .memory: InMemoryTaskStore()
        case .sqlite: try SQLiteTaskStore(path: directory.path("tasks.db"))
        }
    }

    /// A new, empty history store; SQLite files live in `directory`.
    func historyStore(in directory: borrowing TemporaryDirectory) throws -> any HistoryStore {
        switch self {
        case .memory: InMemoryHistoryStore()
        case .sqlite: try SQLiteHistoryStore(path: directory.path("history.db"))
        }
    }
}

extension StorageBackend {
    /// A new, empty repository store; SQLite files live in `directory`.
    func repositoryStore(in directory: borrowing TemporaryDirectory) throws -> any RepositoryStore {
        switch self {
        case .memory: InMemoryRepositoryStore()
        case .sqlite: try SQLiteRepositoryStore(path: directory.path("repositories.db"))
        }
    }

    /// A new, empty content store; SQLite files live in `directory`.
    func contentStore(in directory: borrowing TemporaryDirectory) throws -> any ContentStore {
        switch self {
        case .memory: InMemoryContentStore()
        case .sqlite: try SQLiteContentStore(path: directory.path("content.db"))
        }
    }
}

/// A fresh directory under the system temporary directory, removed when the test ends.
struct TemporaryDirectory: ~Copyable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
