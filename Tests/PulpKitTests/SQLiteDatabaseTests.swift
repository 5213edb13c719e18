import Foundation
import Testing

@testable import PulpKit

struct SQLiteDatabaseTests {
    private func schema(_ count: Int) -> SQLiteSchema {
        var schema = SQLiteSchema(store: "things")
        let steps = [
            "CREATE TABLE things (id TEXT PRIMARY KEY, size INTEGER)",
            "ALTER TABLE things ADD COLUMN note TEXT",
            "CREATE INDEX things_size ON things (size)",
        ]
        for (index, sql) in steps.prefix(count).enumerated() {
            schema.registerMigration("step \(index + 1)", sql: sql)
        }
        return schema
    }

    @Test func createsTheFileWithOwnerOnlyPermissions() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pulp.db")
        _ = try SQLiteDatabase(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func roundTripsEveryValueType() throws {
        let directory = try TemporaryDirectory()
        let database = try SQLiteDatabase(path: directory.path("pulp.db"))
        try database.write { try $0.executeScript("CREATE TABLE v (a, b, c, d, e, f, g)") }
        let values: [SQLiteValue] = [
            .null, .integer(-42), .real(2.5), .text("zoo 🦓 \u{0}x"), .blob([0, 1, 255]), .text(""), .blob([]),
        ]
        try database.write { try $0.execute("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", values) }
        let row = try database.read { connection in
            try connection.firstRow("SELECT a, b, c, d, e, f, g FROM v") { row in (0..<7).map { row.value(Int32($0)) } }
        }
        #expect(row == values)
    }

    @Test func migrationsRunOnceAndInOrder() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pulp.db")
        let first = try SQLiteDatabase(path: path)
        try first.migrate(schema(2))
        try first.migrate(schema(2))
        #expect(try first.schemaVersion(of: "things") == 2)
        try first.write { try $0.execute("INSERT INTO things (id, size, note) VALUES ('a', 1, 'n')") }

        // Reopening with one more migration applies only the new one.
        let second = try SQLiteDatabase(path: path)
        try second.migrate(schema(3))
        #expect(try second.schemaVersion(of: "things") == 3)
        let names = try second.read { connection in
            try connection.rows("SELECT name FROM pulpkit_schema_migrations WHERE store = 'things' ORDER BY version") {
                $0.text(0)
            }
        }
        #expect(names == ["step 1", "step 2", "step 3"])
        #expect(try second.read { try $0.firstRow("SELECT COUNT(*) FROM things") { $0.int(0) } } == 1)
    }

    @Test func aNewerSchemaIsAClearError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pulp.db")
        try SQLiteDatabase(path: path).migrate(schema(3))
        let error = #expect(throws: PulpError.self) { try SQLiteDatabase(path: path).migrate(schema(2)) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains("newer than the 2 this PulpKit knows") == true)
        #expect(error?.message.contains(path) == true)
    }

    @Test func aFailedMigrationLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        let database = try SQLiteDatabase(path: directory.path("pulp.db"))
        var broken = schema(1)
        broken.registerMigration("broken", sql: "CREATE TABLE extra (x); THIS IS NOT SQL")
        #expect(throws: PulpError.self) { try database.migrate(broken) }
        #expect(try database.schemaVersion(of: "things") == 0)
        let tables = try database.read { connection in
            try connection.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.text(0) }
        }
        #expect(tables == ["pulpkit_schema_migrations"])
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        struct Abort: Error {}
        let directory = try TemporaryDirectory()
        let database = try SQLiteDatabase(path: directory.path("pulp.db"))
        try database.migrate(schema(1))
        #expect(throws: Abort.self) {
            try database.write { connection in
                try connection.execute("INSERT INTO things (id, size) VALUES ('a', 1)")
                try connection.execute("INSERT INTO things (id, size) VALUES ('b', 2)")
                throw Abort()
            }
        }
        #expect(throws: PulpError.self) {
            try database.write { connection in
                try connection.execute("INSERT INTO things (id, size) VALUES ('c', 1)")
                try connection.execute("INSERT INTO things (id, size) VALUES ('c', 2)")  // duplicate key
            }
        }
        #expect(try database.read { try $0.firstRow("SELECT COUNT(*) FROM things") { $0.int(0) } } == 0)
    }

    @Test func aSecondConnectionSeesCommittedData() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pulp.db")
        let writer = try SQLiteDatabase(path: path)
        try writer.migrate(schema(1))
        let reader = try SQLiteDatabase(path: path)
        try writer.write { try $0.execute("INSERT INTO things (id, size) VALUES (?, ?)", ["zoo", 7]) }
        let size = try reader.read { try $0.firstRow("SELECT size FROM things WHERE id = ?", ["zoo"]) { $0.int(0) } }
        #expect(size == 7)
    }

    @Test func aLockHeldBeyondTheTimeoutIsA503NamingTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pulp.db")
        let holder = try SQLiteDatabase(path: path)
        try holder.migrate(schema(1))
        let waiter = try SQLiteDatabase(path: path, configuration: .init(busyTimeout: .milliseconds(50)))
        try holder.write { connection in
            try connection.execute("INSERT INTO things (id, size) VALUES ('a', 1)")
            let error = #expect(throws: PulpError.self) {
                try waiter.write { try $0.execute("INSERT INTO things (id, size) VALUES ('b', 2)") }
            }
            #expect(error?.httpStatus == 503)
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("locked") == true)
        }
    }

    @Test func aCorruptFileIsAClearErrorNotACrash() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pulp.db")
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: PulpError.self) { try SQLiteDatabase(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("not a database") == true)
    }

    @Test func aMissingOrUnwritableDirectoryIsAClearError() throws {
        let directory = try TemporaryDirectory()
        let blocker = directory.path("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        for path in [directory.path("missing/pulp.db"), blocker + "/pulp.db"] {
            let error = #expect(throws: PulpError.self) { try SQLiteDatabase(path: path) }
            #expect(error?.message.hasPrefix(path) == true)
        }
    }

    @Test func aWrongBindingCountIsAnErrorNotACrash() throws {
        let directory = try TemporaryDirectory()
        let database = try SQLiteDatabase(path: directory.path("pulp.db"))
        try database.migrate(schema(1))
        #expect(throws: PulpError.self) {
            try database.write { try $0.execute("INSERT INTO things (id, size) VALUES (?, ?)", ["a"]) }
        }
        // The cached statement is still usable afterwards.
        try database.write { try $0.execute("INSERT INTO things (id, size) VALUES (?, ?)", ["a", 1]) }
    }

    @Test func fullSynchronousModeIsApplied() throws {
        let directory = try TemporaryDirectory()
        let database = try SQLiteDatabase(path: directory.path("pulp.db"), configuration: .init(synchronous: .full))
        let mode = try database.read { try $0.firstRow("PRAGMA synchronous") { $0.int(0) } }
        let journal = try database.read { try $0.firstRow("PRAGMA journal_mode") { $0.text(0) } }
        #expect(mode == 2)
        #expect(journal == "wal")
    }
}
