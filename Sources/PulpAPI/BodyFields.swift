import PulpKit

/// Typed reads of a request body's members, each a 400 naming the member when it has the wrong type.
struct BodyFields {
    let members: [String: JSONValue]

    init(_ members: [String: JSONValue]) { self.members = members }

    /// A string member; `nil` when absent or null.
    func string(_ name: String) throws -> String? {
        guard let value = members[name], value != .null else { return nil }
        guard let text = value.stringValue else {
            throw PulpError.invalid(name, "must be a string, got \(value.typeName)")
        }
        return text
    }

    /// A Boolean member; `nil` when absent or null.
    func bool(_ name: String) throws -> Bool? {
        guard let value = members[name], value != .null else { return nil }
        guard let flag = value.boolValue else {
            throw PulpError.invalid(name, "Provided value \(value) for field \(name) must be of type boolean.")
        }
        return flag
    }

    /// An object member; `nil` when absent or null.
    func object(_ name: String) throws -> [String: JSONValue]? {
        guard let value = members[name], value != .null else { return nil }
        guard let object = value.objectValue else {
            throw PulpError.invalid(name, "must be an object, got \(value.typeName)")
        }
        return object
    }

    /// A required string member: a 400 listing it as missing when absent.
    func requiredString(_ name: String) throws -> String {
        guard let text = try string(name) else { throw PulpError.missingValues([name]) }
        return text
    }
}

extension APIRequest {
    /// The body's members, typed.
    func fields() throws -> BodyFields { BodyFields(try jsonObjectBody()) }

    /// Whether a query flag such as `details=true` is set.
    func flag(_ name: String) -> Bool { queryValues(name).contains { ["true", "1", "True"].contains($0) } }
}

extension APIResponse {
    /// `201 Created` with the new resource and its `Location`.
    static func created(_ body: JSONValue, at href: String) -> APIResponse {
        APIResponse(status: 201, headers: ["Location": href], body: body)
    }
}
