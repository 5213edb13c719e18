// The applicability query: consumers selected by criteria, their records collated by identical consumer sets.

/// One entry of the applicability query's answer: consumers whose applicability is identical, and what applies.
public struct ApplicabilityReport: Sendable, Hashable {
    /// The consumers, sorted by id.
    public var consumers: [ConsumerID]
    /// For each content type, the applicable unit ids, sorted.
    public var applicability: [String: [UnitID]]

    /// Creates a report.
    public init(consumers: [ConsumerID], applicability: [String: [UnitID]]) {
        self.consumers = consumers
        self.applicability = applicability
    }

    /// `{"consumers": [ids], "applicability": {type: [unit ids]}}`, the spec's shape.
    public var json: JSONValue {
        [
            "consumers": .array(consumers.map { .string($0.rawValue) }),
            "applicability": .object(applicability.mapValues { .array($0.map { .string($0.rawValue) }) }),
        ]
    }

    /// The 200 body of the query: the array of the reports' JSON.
    public static func json(_ reports: [ApplicabilityReport]) -> JSONValue {
        .array(reports.map(\.json))
    }
}

extension ApplicabilityEngine {
    /// Answers Pulp 2's applicability query for the consumers `criteria` selects.
    ///
    /// The criteria's filters, sort, skip and limit choose and page over consumers; then each consumer is
    /// attached to the record of (its profile set, each repository it is bound to). Records with the same
    /// set of attached consumers are merged, per content type, by set union, and each set becomes one
    /// ``ApplicabilityReport``. A consumer can be in several reports (one per distinct combination), and a
    /// consumer with no record is in none. With `contentTypes`, other types are dropped, and a record left
    /// with no type is dropped too; empty lists stay (`{"erratum": []}`). Reports are ordered by their
    /// consumer lists, and every list is sorted, so equal data gives an equal answer.
    ///
    /// Repositories that no longer exist, and profile sets consumers no longer have, never contribute.
    ///
    /// - Throws: a 400 ``PulpError`` naming `content_types` when one is empty.
    public func query(
        consumers criteria: Criteria,
        contentTypes: [String]? = nil
    ) async throws
        -> [ApplicabilityReport]
    {
        if let contentTypes, contentTypes.contains("") {
            throw PulpError.invalid("content_types", "a content type name must not be empty")
        }
        let wanted = contentTypes.map(Set.init)
        let selected = try await consumers.consumers(matching: criteria)
        let summaries = try await consumers.summaries(of: selected.map(\.id)).sorted { $0.consumerID < $1.consumerID }

        var existing: Set<RepositoryID> = []
        for repository in Set(summaries.flatMap(\.repositories))
        where try await repositories.repository(repository) != nil {
            existing.insert(repository)
        }
        let hashes = Set(summaries.compactMap(\.profileSetHash))
        var records: [ApplicabilityKey: ApplicabilityRecord] = [:]
        for record in try await store.records(forProfileSets: hashes) where existing.contains(record.key.repositoryID) {
            let kept = wanted.map { record.keeping($0) } ?? record
            if !kept.applicability.isEmpty { records[record.key] = kept }
        }

        var members: [ApplicabilityKey: [ConsumerID]] = [:]
        for summary in summaries {
            guard let hash = summary.profileSetHash else { continue }
            for repository in summary.repositories {
                let key = ApplicabilityKey(repositoryID: repository, profileSetHash: hash)
                if records[key] != nil { members[key, default: []].append(summary.consumerID) }
            }
        }

        // Group the records by their consumer sets; then merge each group's records, groups in parallel.
        var groups: [[ConsumerID]: [ApplicabilityRecord]] = [:]
        for (key, consumers) in members {
            if let found = records[key] { groups[consumers, default: []].append(found) }
        }
        let ordered = groups.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var reports = [ApplicabilityReport?](repeating: nil, count: ordered.count)
        let merging = ordered.indices.filter { ordered[$0].value.count > 1 }
        for index in ordered.indices where ordered[index].value.count == 1 {
            reports[index] = ApplicabilityReport(
                consumers: ordered[index].key,
                applicability: ordered[index].value[0].applicability
            )
        }
        let orders = await Self.combinedOrders(of: merging.flatMap { ordered[$0].value })
        let workers = min(configuration.concurrency, merging.count)
        let next = PulpMutex(0)
        try await withThrowingTaskGroup(of: [(Int, [String: [UnitID]])].self) { tasks in
            for _ in 0..<workers {
                tasks.addTask {
                    var merged: [(Int, [String: [UnitID]])] = []
                    while true {
                        let position = next.withLock { position in
                            defer { position += 1 }
                            return position
                        }
                        guard position < merging.count else { break }
                        try Task.checkCancellation()
                        let index = merging[position]
                        merged.append((index, Self.union(of: ordered[index].value, orders: orders)))
                    }
                    return merged
                }
            }
            for try await chunk in tasks {
                for (index, applicability) in chunk {
                    reports[index] = ApplicabilityReport(consumers: ordered[index].key, applicability: applicability)
                }
            }
        }
        return reports.compactMap { $0 }
    }
}

extension ApplicabilityEngine {
    /// For each content type, one order over every id table that `records` have positions in; the types'
    /// orders are built concurrently.
    static func combinedOrders(of records: [ApplicabilityRecord]) async -> [String: CombinedUnitOrder] {
        var tables: [String: [UnitIDTable]] = [:]
        var seen: Set<ObjectIdentifier> = []
        for record in records {
            for (type, positions) in record.positions where seen.insert(ObjectIdentifier(positions.table)).inserted {
                tables[type, default: []].append(positions.table)
            }
        }
        return await withTaskGroup(of: (String, CombinedUnitOrder).self) { group in
            for (type, list) in tables { group.addTask { (type, CombinedUnitOrder(tables: list)) } }
            var orders: [String: CombinedUnitOrder] = [:]
            for await (type, order) in group { orders[type] = order }
            return orders
        }
    }

    /// The union, per content type, of several records' sorted lists: through `orders` when every record
    /// holding the type has it as positions the order ranks, otherwise by merging the lists.
    static func union(
        of records: [ApplicabilityRecord],
        orders: [String: CombinedUnitOrder]
    ) -> [String: [UnitID]] {
        var types: Set<String> = []
        for record in records { types.formUnion(record.applicability.keys) }
        var result: [String: [UnitID]] = [:]
        for type in types {
            let holding = records.filter { $0.applicability[type] != nil }
            if holding.count == 1 {
                result[type] = holding[0].applicability[type]
                continue
            }
            let positions = holding.compactMap { $0.positions[type] }
            if let order = orders[type], positions.count == holding.count,
                positions.allSatisfy({ order.contains($0.table) })
            {
                result[type] = order.union(positions)
            } else {
                let lists = holding.map { $0.applicability[type]! }
                result[type] = lists.dropFirst().reduce(lists[0], mergeSortedUnique)
            }
        }
        return result
    }
}

/// The union of two sorted lists without duplicates, sorted, without duplicates.
///
/// Unit ids are mostly long random strings spread over the heap, so comparing two of them is a cache miss
/// or two; each id's ``UnitIDSortKey`` is read once as the merge reaches it and compared instead.
func mergeSortedUnique(_ a: [UnitID], _ b: [UnitID]) -> [UnitID] {
    if a.isEmpty { return b }
    if b.isEmpty { return a }
    var result: [UnitID] = []
    result.reserveCapacity(a.count + b.count)
    var i = 0
    var j = 0
    var keyA = UnitIDSortKey(a[0])
    var keyB = UnitIDSortKey(b[0])
    while true {
        let order = UnitIDSortKey.compare(keyA, a[i], keyB, b[j])
        if order <= 0 {
            result.append(a[i])
            i += 1
            if order == 0 { j += 1 }
        } else {
            result.append(b[j])
            j += 1
        }
        guard i < a.count, j < b.count else { break }
        if order <= 0 { keyA = UnitIDSortKey(a[i]) }
        if order >= 0 { keyB = UnitIDSortKey(b[j]) }
    }
    if i < a.count { result.append(contentsOf: a[i...]) }
    if j < b.count { result.append(contentsOf: b[j...]) }
    return result
}

/// The first eight bytes of a unit id as a big-endian integer, which orders ids as `String` does when both
/// start with nine ASCII bytes (or are ASCII and shorter): then comparing keys needs no second look at the
/// strings. Otherwise (``exact`` is false) the strings themselves are compared.
struct UnitIDSortKey {
    let prefix: UInt64
    let exact: Bool

    @inline(__always)
    init(_ id: UnitID) {
        let fast: UnitIDSortKey? = id.rawValue.utf8.withContiguousStorageIfAvailable { bytes in
            UnitIDSortKey(bytes: bytes)
        }
        if let fast {
            self = fast
        } else {
            self = UnitIDSortKey(bytes: Array(id.rawValue.utf8))
        }
    }

    @inline(__always)
    private init(bytes: some RandomAccessCollection<UInt8>) {
        var prefix: UInt64 = 0
        var ascii = true
        var count = 0
        for byte in bytes.prefix(9) {
            if byte >= 0x80 { ascii = false }
            if count < 8 {
                prefix = prefix << 8 | UInt64(byte)
                count += 1
            }
        }
        self.prefix = count == 0 ? 0 : prefix << (8 * UInt64(8 - count))
        exact = ascii
    }

    /// -1, 0 or 1 as `a` sorts before, equal to or after `b`.
    @inline(__always)
    static func compare(_ keyA: UnitIDSortKey, _ a: UnitID, _ keyB: UnitIDSortKey, _ b: UnitID) -> Int {
        if keyA.exact, keyB.exact, keyA.prefix != keyB.prefix { return keyA.prefix < keyB.prefix ? -1 : 1 }
        if a == b { return 0 }
        return a < b ? -1 : 1
    }
}
