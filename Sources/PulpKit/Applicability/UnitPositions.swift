// Applicable units as positions in a repository index's id table, so that the query merges integers and
// touches unit id strings only to write its answer.

/// The unit ids of one content type in one repository index, sorted ascending (as `UnitID`'s `<` orders) and
/// each once: the table ``UnitPositions`` number. A class, so every record computed from one index shares
/// one table, and the query tells tables apart by identity.
public final class UnitIDTable: Sendable {
    /// The ids, sorted ascending without duplicates.
    public let ids: [UnitID]

    /// Creates a table of `ids`, which must be sorted ascending without duplicates.
    public init(sortedIDs ids: [UnitID]) {
        assert(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "unit ids of a table must be sorted and unique")
        self.ids = ids
    }
}

/// Some units of a ``UnitIDTable``, as a set of positions in it (one bit each): what a calculator's
/// ``ApplicabilityCalculator/applicablePositions(profiles:repository:)`` returns per content type.
public struct UnitPositions: Sendable {
    /// The table the positions refer to.
    public let table: UnitIDTable
    /// Bit `b` of word `w` stands for position `64 * w + b`.
    let words: [UInt64]

    /// The set of `words`' bits: bit `b` of word `w` is position `64 * w + b`, below `table.ids.count`.
    public init(table: UnitIDTable, words: [UInt64]) {
        // Bits past the table's end in the last word must be clear.
        let spare = words.count * 64 - table.ids.count
        precondition(
            spare < 64 && (spare <= 0 || words[words.count - 1] >> UInt64(64 - spare) == 0),
            "positions beyond the table"
        )
        self.table = table
        self.words = words
    }

    /// The set of `positions`, each below `table.ids.count`.
    public init(table: UnitIDTable, positions: some Sequence<Int>) {
        var words = [UInt64](repeating: 0, count: (table.ids.count + 63) / 64)
        for position in positions {
            precondition(position >= 0 && position < table.ids.count, "position \(position) outside the table")
            words[position >> 6] |= 1 << UInt64(position & 63)
        }
        self.init(table: table, words: words)
    }

    /// How many units the set holds.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The units' ids, sorted ascending.
    public var ids: [UnitID] {
        var result: [UnitID] = []
        result.reserveCapacity(count)
        table.ids.withUnsafeBufferPointer { ids in forEachPosition { result.append(ids[$0]) } }
        return result
    }

    /// Calls `body` with each position, ascending.
    @inline(__always)
    func forEachPosition(_ body: (Int) -> Void) {
        for (index, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                body(index << 6 | rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
    }
}

/// One order over the ids of several tables of a content type: each id once, sorted ascending, and for each
/// table the rank of each of its ids in that order. The query merges records of different repositories
/// through it: positions become ranks, a union of ranks is a bitwise or, and ranks come out sorted.
struct CombinedUnitOrder: Sendable {
    /// Every id of the tables, sorted ascending, each once.
    private(set) var ids: [UnitID] = []
    /// For the table at `tableNumbers[ObjectIdentifier(table)]`, the rank of each of its positions.
    private var ranks: [[Int32]] = []
    private var tableNumbers: [ObjectIdentifier: Int] = [:]

    /// Combines `tables` (duplicates by identity are taken once), merging them one at a time.
    init(tables: [UnitIDTable]) {
        for table in tables where tableNumbers[ObjectIdentifier(table)] == nil {
            tableNumbers[ObjectIdentifier(table)] = ranks.count
            add(table.ids)
        }
    }

    /// Whether positions of `table` can be ranked.
    func contains(_ table: UnitIDTable) -> Bool { tableNumbers[ObjectIdentifier(table)] != nil }

    /// The ranks of `table`'s positions; the table must be one of those combined.
    func ranks(of table: UnitIDTable) -> [Int32] { ranks[tableNumbers[ObjectIdentifier(table)]!] }

    /// The union of `sets` (all of tables combined here), as ids sorted ascending.
    func union(_ sets: [UnitPositions]) -> [UnitID] {
        var bits = [UInt64](repeating: 0, count: (ids.count + 63) / 64)
        for set in sets {
            ranks(of: set.table).withUnsafeBufferPointer { ranks in
                set.forEachPosition { position in
                    let rank = Int(ranks[position])
                    bits[rank >> 6] |= 1 << UInt64(rank & 63)
                }
            }
        }
        var result: [UnitID] = []
        result.reserveCapacity(bits.reduce(0) { $0 + $1.nonzeroBitCount })
        ids.withUnsafeBufferPointer { ids in
            for (index, word) in bits.enumerated() where word != 0 {
                var rest = word
                while rest != 0 {
                    result.append(ids[index << 6 | rest.trailingZeroBitCount])
                    rest &= rest - 1
                }
            }
        }
        return result
    }

    /// Merges the sorted `table` into ``ids``, renumbering the ranks of the tables already in.
    private mutating func add(_ table: [UnitID]) {
        var merged: [UnitID] = []
        merged.reserveCapacity(ids.count + table.count)
        var moved = [Int32](repeating: 0, count: ids.count)
        var added = [Int32](repeating: 0, count: table.count)
        var i = 0
        var j = 0
        while i < ids.count || j < table.count {
            let order: Int
            if i == ids.count {
                order = 1
            } else if j == table.count {
                order = -1
            } else {
                order = UnitIDSortKey.compare(UnitIDSortKey(ids[i]), ids[i], UnitIDSortKey(table[j]), table[j])
            }
            let rank = Int32(merged.count)
            if order <= 0 {
                merged.append(ids[i])
                moved[i] = rank
                i += 1
            } else {
                merged.append(table[j])
            }
            if order >= 0 {
                added[j] = rank
                j += 1
            }
        }
        ranks = ranks.map { old in old.map { moved[Int($0)] } }
        ranks.append(added)
        ids = merged
    }
}
