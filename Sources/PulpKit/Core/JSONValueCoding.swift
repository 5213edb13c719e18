import Foundation

// `Encodable` and `Decodable` values straight to and from ``JSONValue``, without going through JSON text:
// task arguments are encoded on every dispatch and decoded on every validation and run. Values come out
// as Foundation's `JSONEncoder` with its default strategies writes them: `Date` as seconds since 2001,
// `Data` as Base64, `URL` as its absolute string, non-finite numbers refused.

extension JSONValue {
    /// The JSON form of an `Encodable` value, e.g. a task's typed arguments.
    ///
    /// - Throws: `EncodingError` for a value JSON cannot hold (a non-finite number, or no value at all).
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoding.encode(value, codingPath: [])
    }

    /// Decodes a `Decodable` value from this JSON, e.g. a task's typed arguments.
    ///
    /// - Throws: ``PulpError`` naming `field` when the value does not have the expected shape.
    public func decode<Value: Decodable>(_ type: Value.Type, field: String = "arguments") throws -> Value {
        do {
            return try JSONValueDecoding.decode(Value.self, from: self, codingPath: [])
        } catch {
            throw PulpError.invalid(field, "cannot be read as \(Value.self): \(error)")
        }
    }
}

// MARK: - Encoding

/// A value being encoded: a tree of reference nodes (containers hand out references to their children),
/// turned into a ``JSONValue`` once encoding is done.
private final class EncodingNode {
    enum Kind { case empty, value, object, array }

    var kind = Kind.empty
    var value = JSONValue.null
    var members: [String: EncodingSlot] = [:]
    var elements: [EncodingSlot] = []

    /// The value built; `codingPath` is only evaluated for an error.
    func resolved(codingPath: @autoclosure () -> [any CodingKey]) throws -> JSONValue {
        switch kind {
        case .empty:
            throw EncodingError.invalidValue(
                (),
                .init(codingPath: codingPath(), debugDescription: "The value encoded nothing")
            )
        case .value: return value
        case .object:
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(members.count)
            for (key, member) in members {
                object[key] = try member.resolved(codingPath: codingPath() + [JSONCodingKey(key)])
            }
            return .object(object)
        case .array:
            return .array(
                try elements.enumerated().map { index, element in
                    try element.resolved(codingPath: codingPath() + [JSONCodingKey(index)])
                }
            )
        }
    }

    /// Makes this node an object (keeping members already there) or an array.
    func become(_ container: Kind) {
        if kind != container {
            kind = container
            members = [:]
            elements = []
        }
    }
}

/// A member or element: a finished leaf, or a node still being filled.
private enum EncodingSlot {
    case value(JSONValue)
    case node(EncodingNode)

    func resolved(codingPath: @autoclosure () -> [any CodingKey]) throws -> JSONValue {
        switch self {
        case .value(let value): value
        case .node(let node): try node.resolved(codingPath: codingPath())
        }
    }
}

private enum JSONValueEncoding {
    static func encode(_ value: some Encodable, codingPath: [any CodingKey]) throws -> JSONValue {
        try slot(for: value, codingPath: codingPath).resolved(codingPath: codingPath)
    }

    /// The slot of `value`: leaves directly, anything else through its `encode(to:)`.
    /// `codingPath` is only evaluated when needed: most values are leaves that encode without error.
    static func slot(for value: some Encodable, codingPath: @autoclosure () -> [any CodingKey]) throws -> EncodingSlot {
        if let leaf = try leaf(value, codingPath: codingPath()) { return .value(leaf) }
        let node = EncodingNode()
        try value.encode(to: NodeEncoder(node: node, codingPath: codingPath()))
        return .node(node)
    }

    /// The JSON of values Foundation's encoder writes as one JSON value of their own; `nil` for others.
    ///
    /// Types are compared before any cast: most values are leaves, and casting a struct to each leaf type
    /// in turn costs more than encoding it.
    static func leaf<Value: Encodable>(
        _ value: Value,
        codingPath: @autoclosure () -> [any CodingKey]
    ) throws -> JSONValue? {
        let type = Value.self
        if type == String.self { return .string(value as! String) }
        if type == JSONValue.self { return (value as! JSONValue) }
        if type == Int.self { return .int(value as! Int) }
        if type == Bool.self { return .bool(value as! Bool) }
        if type == Double.self { return try double(value as! Double, codingPath: codingPath()) }
        if type == Float.self { return try double(Double(value as! Float), codingPath: codingPath()) }
        if type == URL.self { return .string((value as! URL).absoluteString) }
        if type == Data.self { return .string((value as! Data).base64EncodedString()) }
        if type == Date.self {
            return try double((value as! Date).timeIntervalSinceReferenceDate, codingPath: codingPath())
        }
        if let number = value as? any BinaryInteger { return try integer(number, codingPath: codingPath()) }
        return nil
    }

    static func double(_ number: Double, codingPath: @autoclosure () -> [any CodingKey]) throws -> JSONValue {
        guard number.isFinite else {
            throw EncodingError.invalidValue(
                number,
                .init(codingPath: codingPath(), debugDescription: "JSON cannot hold \(number)")
            )
        }
        return .double(number)
    }

    static func integer<Number: BinaryInteger>(
        _ number: Number,
        codingPath: @autoclosure () -> [any CodingKey]
    ) throws -> JSONValue {
        guard let value = Int(exactly: number) else {
            throw EncodingError.invalidValue(
                number,
                .init(codingPath: codingPath(), debugDescription: "\(number) does not fit in a JSON integer")
            )
        }
        return .int(value)
    }
}

private struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.become(.object)
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.become(.array)
        return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueNodeEncoder(node: node, codingPath: codingPath)
    }
}

private struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.members[key.stringValue] = .value(.null) }

    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        node.members[key.stringValue] = try JSONValueEncoding.slot(for: value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(node: child(JSONCodingKey("super")), codingPath: codingPath + [JSONCodingKey("super")])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: child(key), codingPath: codingPath + [key])
    }

    private func child(_ key: some CodingKey) -> EncodingNode {
        let child = EncodingNode()
        node.members[key.stringValue] = .node(child)
        return child
    }
}

private struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.elements.count }

    private var nextPath: [any CodingKey] { codingPath + [JSONCodingKey(count)] }

    mutating func encodeNil() throws { node.elements.append(.value(.null)) }

    mutating func encode(_ value: some Encodable) throws {
        node.elements.append(try JSONValueEncoding.slot(for: value, codingPath: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<
        NestedKey
    > {
        let path = nextPath
        return NodeEncoder(node: appendChild(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        return NodeEncoder(node: appendChild(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        return NodeEncoder(node: appendChild(), codingPath: path)
    }

    private func appendChild() -> EncodingNode {
        let child = EncodingNode()
        node.elements.append(.node(child))
        return child
    }
}

private struct SingleValueNodeEncoder: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws {
        node.kind = .value
        node.value = .null
    }

    mutating func encode(_ value: some Encodable) throws {
        switch try JSONValueEncoding.slot(for: value, codingPath: codingPath) {
        case .value(let value):
            node.kind = .value
            node.value = value
        case .node(let encoded):
            node.kind = encoded.kind
            node.value = encoded.value
            node.members = encoded.members
            node.elements = encoded.elements
        }
    }

}

// MARK: - Decoding

private enum JSONValueDecoding {
    static func decode<Value: Decodable>(
        _ type: Value.Type,
        from json: JSONValue,
        codingPath: @autoclosure () -> [any CodingKey]
    ) throws -> Value {
        if let leaf = try leaf(type, from: json, codingPath: codingPath()) { return leaf }
        return try Value(from: NodeDecoder(json: json, codingPath: codingPath()))
    }

    /// Values Foundation's decoder reads from one JSON value of their own; `nil` for any other type.
    static func leaf<Value>(
        _ type: Value.Type,
        from json: JSONValue,
        codingPath: @autoclosure () -> [any CodingKey]
    ) throws -> Value? {
        if type == String.self { return try string(json, codingPath: codingPath()) as? Value }
        if type == JSONValue.self { return json as? Value }
        if type == Int.self { return try integer(Int.self, json, codingPath: codingPath()) as? Value }
        if type == Bool.self { return try bool(json, codingPath: codingPath()) as? Value }
        if type == Double.self { return try double(json, codingPath: codingPath()) as? Value }
        if type == Float.self { return Float(try double(json, codingPath: codingPath())) as? Value }
        if type == URL.self {
            guard let url = URL(string: try string(json, codingPath: codingPath())) else {
                throw corrupted(codingPath(), "Invalid URL string")
            }
            return url as? Value
        }
        if type == Data.self {
            guard let data = Data(base64Encoded: try string(json, codingPath: codingPath())) else {
                throw corrupted(codingPath(), "Encountered Data is not valid Base64")
            }
            return data as? Value
        }
        if type == Date.self {
            return Date(timeIntervalSinceReferenceDate: try double(json, codingPath: codingPath())) as? Value
        }
        if let integerType = type as? any FixedWidthInteger.Type {
            return try integer(integerType, json, codingPath: codingPath()) as? Value
        }
        return nil
    }

    static func string(_ json: JSONValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> String {
        guard case .string(let text) = json else { throw mismatch(String.self, json, codingPath()) }
        return text
    }

    static func bool(_ json: JSONValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = json else { throw mismatch(Bool.self, json, codingPath()) }
        return flag
    }

    static func double(_ json: JSONValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> Double {
        switch json {
        case .double(let number): return number
        case .int(let number): return Double(number)
        default: throw mismatch(Double.self, json, codingPath())
        }
    }

    static func integer<Number: FixedWidthInteger>(
        _ type: Number.Type,
        _ json: JSONValue,
        codingPath: @autoclosure () -> [any CodingKey]
    ) throws -> Number {
        let number: Number?
        switch json {
        case .int(let value): number = Number(exactly: value)
        case .double(let value): number = Number(exactly: value)
        default: throw mismatch(type, json, codingPath())
        }
        guard let number else {
            throw corrupted(codingPath(), "Parsed JSON number <\(json)> does not fit in \(type).")
        }
        return number
    }

    static func mismatch(_ type: Any.Type, _ json: JSONValue, _ codingPath: [any CodingKey]) -> DecodingError {
        .typeMismatch(
            type,
            .init(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(json.kindName)")
        )
    }

    static func corrupted(_ codingPath: [any CodingKey], _ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: description))
    }
}

extension JSONValue {
    /// How a type mismatch names this value.
    fileprivate var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

private struct NodeDecoder: Decoder {
    let json: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = json else {
            throw JSONValueDecoding.mismatch([String: JSONValue].self, json, codingPath)
        }
        return KeyedDecodingContainer(KeyedNodeDecoder<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = json else {
            throw JSONValueDecoding.mismatch([JSONValue].self, json, codingPath)
        }
        return UnkeyedNodeDecoder(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueNodeDecoder(json: json, codingPath: codingPath)
    }
}

private struct KeyedNodeDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)")
            )
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }

    func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value {
        try JSONValueDecoding.decode(type, from: try value(key), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(json: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(json: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = JSONCodingKey("super")
        return NodeDecoder(json: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoder(json: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedNodeDecoder: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var nextPath: [any CodingKey] { codingPath + [JSONCodingKey(currentIndex)] }

    private mutating func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(codingPath: nextPath, debugDescription: "Unkeyed container is at end.")
            )
        }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        let path = nextPath
        return try JSONValueDecoding.decode(type, from: try next(type), codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let path = nextPath
        return try NodeDecoder(json: try next([String: JSONValue].self), codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let path = nextPath
        return try NodeDecoder(json: try next([JSONValue].self), codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let path = nextPath
        return NodeDecoder(json: try next(JSONValue.self), codingPath: path)
    }
}

private struct SingleValueNodeDecoder: SingleValueDecodingContainer {
    let json: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { json == .null }

    func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try JSONValueDecoding.decode(type, from: json, codingPath: codingPath)
    }

}

/// A coding key for the paths in coding errors: an object member's name or an array index.
private struct JSONCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init(_ index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}
