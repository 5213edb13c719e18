import CSQLite

/// One open SQLite connection with its prepared-statement cache.
///
/// Not thread-safe: only ``SQLiteDatabase`` holds one, behind its lock, and lends it to a closure
/// for the length of a transaction.
package final class SQLiteConnection {
    /// The database file, named in every error.
    package let path: String
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, handle: OpaquePointer) {
        self.path = path
        self.handle = handle
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without bindings, e.g. DDL in a migration.
    package func executeScript(_ sql: String) throws(PulpError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(message)
            throw error(code: code, message: text, sql: sql)
        }
    }

    /// Runs one statement with bindings and returns the number of rows it changed.
    @discardableResult
    package func execute(_ sql: String, _ bindings: [SQLiteValue] = []) throws(PulpError) -> Int {
        let statement = try prepare(sql, bindings)
        defer { reset(statement) }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            if code != SQLITE_ROW { throw error(code: code, sql: sql) }
        }
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and calls `body` for each row, in order.
    package func query(
        _ sql: String,
        _ bindings: [SQLiteValue] = [],
        _ body: (SQLiteRow) throws -> Void
    ) throws {
        let statement = try prepare(sql, bindings)
        defer { reset(statement) }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code: code, sql: sql) }
            try body(SQLiteRow(statement: statement))
        }
    }

    /// Runs a query and maps every row.
    package func rows<Element>(
        _ sql: String,
        _ bindings: [SQLiteValue] = [],
        _ transform: (SQLiteRow) throws -> Element
    ) throws -> [Element] {
        var result: [Element] = []
        try query(sql, bindings) { result.append(try transform($0)) }
        return result
    }

    /// Runs a query and maps its first row, if any.
    package func firstRow<Element>(
        _ sql: String,
        _ bindings: [SQLiteValue] = [],
        _ transform: (SQLiteRow) throws -> Element
    ) throws -> Element? {
        let statement = try prepare(sql, bindings)
        defer { reset(statement) }
        let code = sqlite3_step(statement)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw error(code: code, sql: sql) }
        return try transform(SQLiteRow(statement: statement))
    }

    /// The rowid of the last row inserted through this connection.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    // MARK: - Statements

    private func prepare(_ sql: String, _ bindings: [SQLiteValue]) throws(PulpError) -> OpaquePointer {
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard code == SQLITE_OK, let prepared else { throw error(code: code, sql: sql) }
            statements[sql] = prepared
            statement = prepared
        }
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == bindings.count else {
            throw PulpError.storage(
                "statement expects \(expected) bindings, got \(bindings.count): \(sql)",
                path: path
            )
        }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let number): code = sqlite3_bind_int64(statement, index, number)
            case .real(let number): code = sqlite3_bind_double(statement, index, number)
            case .text(let text):
                // An explicit length keeps strings with NUL characters whole.
                var text = text
                code = text.withUTF8 { utf8 in
                    guard let base = utf8.baseAddress, !utf8.isEmpty else {
                        return sqlite3_bind_text(statement, index, "", 0, sqliteTransient)
                    }
                    return sqlite3_bind_text(statement, index, base, Int32(utf8.count), sqliteTransient)
                }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { raw in
                    guard let base = raw.baseAddress, !raw.isEmpty else {
                        return sqlite3_bind_zeroblob(statement, index, 0)
                    }
                    return sqlite3_bind_blob(statement, index, base, Int32(raw.count), sqliteTransient)
                }
            }
            guard code == SQLITE_OK else {
                reset(statement)
                throw error(code: code, sql: sql)
            }
        }
        return statement
    }

    private func reset(_ statement: OpaquePointer) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    func error(code: Int32, message: String? = nil, sql: String? = nil) -> PulpError {
        let text = message ?? String(cString: sqlite3_errmsg(handle))
        let primary = code & 0xFF
        let isBusy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED
        let context = sql.map { " [\($0.prefix(120))]" } ?? ""
        return PulpError.storage("\(text) (SQLite code \(code))\(context)", path: path, isBusy: isBusy)
    }
}

/// SQLite's "copy this buffer now" destructor, which Swift cannot spell as a constant.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One row of a query result, valid only inside the row callback.
package struct SQLiteRow {
    fileprivate let statement: OpaquePointer

    /// Whether column `index` is SQL NULL.
    package func isNull(_ index: Int32) -> Bool { sqlite3_column_type(statement, index) == SQLITE_NULL }

    /// Column `index` as a 64-bit integer (0 for NULL).
    package func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(statement, index) }

    /// Column `index` as an `Int` (0 for NULL).
    package func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(statement, index)) }

    /// Column `index` as an `Int`, or `nil` for NULL.
    package func optionalInt(_ index: Int32) -> Int? { isNull(index) ? nil : int(index) }

    /// Column `index` as a `Bool` (non-zero is true).
    package func bool(_ index: Int32) -> Bool { sqlite3_column_int64(statement, index) != 0 }

    /// Column `index` as a `Double` (0 for NULL).
    package func double(_ index: Int32) -> Double { sqlite3_column_double(statement, index) }

    /// Column `index` as text ("" for NULL).
    package func text(_ index: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, index) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Column `index` as text, or `nil` for NULL.
    package func optionalText(_ index: Int32) -> String? { isNull(index) ? nil : text(index) }

    /// Column `index` as bytes (empty for NULL).
    package func blob(_ index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, index))
        guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Column `index` as a ``SQLiteValue`` of its stored type.
    package func value(_ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: .integer(int64(index))
        case SQLITE_FLOAT: .real(double(index))
        case SQLITE_TEXT: .text(text(index))
        case SQLITE_BLOB: .blob(blob(index))
        default: .null
        }
    }
}
