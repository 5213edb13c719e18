/// Finds a repeated name among a manifest's entries without storing the names a second time.
///
/// An open-addressing table keyed by the high 32 bits of `String.hashValue`, which pick the slot and are stored with
/// the entry position, so a probe reads one word. Names are compared, with Swift's canonical-equivalence `==`, only
/// when those hash bits are equal.
struct NameIndex {
    /// How many names are hashed together before any is inserted, so that their cache misses overlap.
    static let batchSize = 64

    /// The hash's high 32 bits, then the entry position plus one; 0 marks an empty slot.
    private var slots: [UInt64]
    private var count = 0
    /// Where the probes of the last batch were summed, so that the loads that warm the cache are not optimised away.
    private var warmed: UInt64 = 0

    /// Creates an index sized for about `expectedCount` names; it grows as needed.
    init(expectedCount: Int) {
        var size = 16
        while size < expectedCount + expectedCount / 2 { size *= 2 }
        slots = Array(repeating: 0, count: size)
    }

    /// Records the names of the entries at `positions`, in order, and returns the first that repeats an earlier one.
    ///
    /// - Returns: the position of the repeated name and of its earlier occurrence, or nil when all are new.
    mutating func insert(_ positions: Range<Int>, names: (Int) -> String) -> (earlier: Int, later: Int)? {
        precondition(positions.upperBound < Int(UInt32.max), "a manifest holds fewer than 2^32 - 1 entries")
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.batchSize) { tags in
            var start = positions.lowerBound
            while start < positions.upperBound {
                let end = min(start + Self.batchSize, positions.upperBound)
                while (count + end - start) * 3 > slots.count * 2 { grow() }
                let mask = UInt64(slots.count - 1)
                for position in start..<end {
                    tags[position - start] = UInt64(UInt(bitPattern: names(position).hashValue)) & 0xFFFF_FFFF_0000_0000
                }
                // A tight loop of independent loads, so that the cache misses of a whole batch overlap.
                var touched: UInt64 = 0
                for offset in 0..<(end - start) {
                    touched &+= slots[Int(truncatingIfNeeded: (tags[offset] >> 32) & mask)]
                }
                warmed = touched
                for position in start..<end {
                    if let earlier = insert(tag: tags[position - start], at: position, names: names) {
                        return (earlier, position)
                    }
                }
                start = end
            }
            return nil
        }
    }

    private mutating func insert(tag: UInt64, at position: Int, names: (Int) -> String) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: tag >> 32) & mask
        while slots[slot] != 0 {
            let word = slots[slot]
            if word & 0xFFFF_FFFF_0000_0000 == tag {
                let earlier = Int(word & 0xFFFF_FFFF) - 1
                if names(earlier) == names(position) { return earlier }
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = tag | UInt64(position + 1)
        count += 1
        return nil
    }

    /// Doubles the table; a slot is chosen by the stored high hash bits, so names need no rehashing.
    private mutating func grow() {
        let old = slots
        let mask = old.count * 2 - 1
        slots = Array(repeating: 0, count: old.count * 2)
        for word in old where word != 0 {
            var slot = Int(truncatingIfNeeded: word >> 32) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = word
        }
    }
}
