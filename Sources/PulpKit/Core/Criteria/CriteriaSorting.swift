/// One compiled sort key.
struct CompiledSortKey: Sendable {
    let path: FieldPath
    let descending: Bool
}

/// A document's value for one sort key, in Mongo's cross-type order.
private enum SortValue {
    /// An empty array, which Mongo orders before `null` and missing fields.
    case emptyArray
    /// Any other value; a missing field is `null`.
    case value(JSONValue)

    static func order(_ lhs: SortValue, _ rhs: SortValue) -> Int {
        guard case .value(let left) = lhs else {
            if case .emptyArray = rhs { return 0 }
            return -1
        }
        guard case .value(let right) = rhs else { return 1 }
        return orderValues(left, right)
    }
}

extension CompiledSortKey {
    /// The value `document` sorts by: the smallest reached value ascending, the largest descending, where a
    /// reached array contributes its elements (so arrays sort by their min or max element).
    private func sortValue(of document: JSONValue) -> SortValue {
        var best: SortValue?
        func offer(_ candidate: SortValue) {
            guard let current = best else {
                best = candidate
                return
            }
            let order = SortValue.order(candidate, current)
            if descending ? order > 0 : order < 0 { best = candidate }
        }
        _ = Candidates(resolving: path, in: document).any { value in
            switch value {
            case nil: offer(.value(.null))
            case .array(let elements)?:
                if elements.isEmpty { offer(.emptyArray) }
                for element in elements { offer(.value(element)) }
            case let value?: offer(.value(value))
            }
            return false
        }
        return best ?? .value(.null)
    }

    /// Sorts `documents` by `keys` in order; ties keep their input order.
    static func sort(_ documents: [JSONValue], by keys: [CompiledSortKey]) -> [JSONValue] {
        guard !keys.isEmpty, documents.count > 1 else { return documents }
        // Each document's sort values, computed once: row `index * keys.count`.
        var values: [SortValue] = []
        values.reserveCapacity(documents.count * keys.count)
        for document in documents {
            for key in keys { values.append(key.sortValue(of: document)) }
        }
        let descending = keys.map(\.descending)
        let width = keys.count
        let order = values.withUnsafeBufferPointer { values in
            descending.withUnsafeBufferPointer { descending in
                documents.indices.sorted { left, right in
                    for position in 0..<width {
                        let comparison = SortValue.order(
                            values[left * width + position],
                            values[right * width + position]
                        )
                        if comparison != 0 { return descending[position] ? comparison > 0 : comparison < 0 }
                    }
                    return left < right
                }
            }
        }
        return order.map { documents[$0] }
    }
}

/// The `fields` projection, compiled into a tree of the paths to keep.
struct Projection: Sendable {
    private var children: [String: Projection] = [:]
    private var keepsWhole = false

    /// The keys every projection keeps when the document has them.
    static let alwaysKept = ["id", "_id", "_href"]

    init(fields: [String]) {
        for field in fields + Projection.alwaysKept {
            insert(field.split(separator: ".", omittingEmptySubsequences: false)[...])
        }
    }

    private init() {}

    private mutating func insert(_ components: ArraySlice<Substring>) {
        guard !keepsWhole else { return }
        guard let first = components.first else {
            keepsWhole = true
            children = [:]
            return
        }
        children[String(first), default: Projection()].insert(components.dropFirst())
    }

    /// `document` with only the kept paths; a value that is not an object is returned unchanged.
    func apply(to document: JSONValue) -> JSONValue {
        guard case .object = document else { return document }
        return project(document) ?? document
    }

    /// Keeps the listed members of an object, projects each object element of an array, and drops
    /// anything else (as Mongo drops scalars when a dotted path asks for a member of them).
    private func project(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for (key, child) in children {
                guard let member = members[key] else { continue }
                if child.keepsWhole {
                    kept[key] = member
                } else if let projected = child.project(member) {
                    kept[key] = projected
                }
            }
            return .object(kept)
        case .array(let elements):
            return .array(elements.compactMap { project($0) })
        default:
            return nil
        }
    }
}
