/// Decides which units of a repository apply to a consumer, for one family of content types: PulpKit's
/// version of a Pulp 2 profiler. Content plugins provide one (PulpRPM's handles `rpm` and `erratum`) and
/// register it with ``ApplicabilityEngine/register(_:)``.
///
/// The engine calls a calculator in three steps, so that the expensive parts run once and are reused:
///
/// 1. ``makeIndex(units:)`` once per repository and regeneration, with the repository's units of
///    ``contentTypes`` (e.g. newest builds per name and architecture, errata keyed by package);
/// 2. ``prepare(profiles:)`` once per distinct profile set (consumers with identical profiles share it);
/// 3. ``applicableUnits(profiles:repository:)`` for every (profile set, repository) pair, which should be
///    cheap: no JSON, no allocation beyond its result.
///
/// Rules every conformer keeps:
///
/// - ``contentTypes`` and ``profileTypes`` are non-empty, and no two registered calculators share a
///   content type or a profile type.
/// - ``normalize(profile:contentType:)`` is deterministic and idempotent, and maps profiles that mean the
///   same (the same packages in another order) to the same value, so they hash alike. It refuses a
///   malformed profile with a 400 ``PulpError`` naming `profile`.
/// - ``applicableUnits(profiles:repository:)`` returns a list for every type of ``contentTypes`` (empty
///   when nothing applies), each list holding unit ids of that repository. Lists sorted ascending without
///   duplicates are stored as they are; others are sorted first.
/// - Everything is a pure function of its inputs, so results can be computed concurrently and cached.
public protocol ApplicabilityCalculator: Sendable {
    /// The calculator's view of one repository's content, built once and shared by concurrent computations.
    associatedtype RepositoryIndex: Sendable
    /// The calculator's view of one consumer profile set.
    associatedtype PreparedProfiles: Sendable

    /// The content types whose applicability this calculator reports, e.g. `["rpm", "erratum"]`.
    var contentTypes: Set<String> { get }

    /// The profile content types it reads and normalises, e.g. `["rpm"]`.
    var profileTypes: Set<String> { get }

    /// Validates a profile of one of ``profileTypes`` and puts it in canonical form.
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` that says which entry is malformed and how.
    func normalize(profile: JSONValue, contentType: String) throws(PulpError) -> JSONValue

    /// Builds the index of a repository from its units of ``contentTypes``, ordered by id. Units it cannot
    /// read (a missing field) take no part in applicability.
    func makeIndex(units: [ContentUnit]) -> RepositoryIndex

    /// Prepares a consumer's profiles for repeated use: `profiles` maps each of ``profileTypes`` the
    /// consumer has (at least one) to its normalised profile.
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` if a stored profile is malformed.
    func prepare(profiles: [String: JSONValue]) throws(PulpError) -> PreparedProfiles

    /// The ids of the repository's units that apply, for every type of ``contentTypes``.
    func applicableUnits(profiles: PreparedProfiles, repository: RepositoryIndex) -> [String: [UnitID]]

    /// The same units as ``applicableUnits(profiles:repository:)``, as positions in id tables the index
    /// keeps (one ``UnitIDTable`` per type, shared by every result from that index), for every type of
    /// ``contentTypes``; or `nil`, the default, when the calculator reports ids only. The engine uses it
    /// instead of ``applicableUnits(profiles:repository:)`` when it is not `nil`, and queries then merge the
    /// records of several repositories as integers.
    func applicablePositions(profiles: PreparedProfiles, repository: RepositoryIndex) -> [String: UnitPositions]?

    /// Whether ``applicableUnits(profiles:repository:)`` always returns its lists sorted ascending (as
    /// `UnitID`'s `<` orders) without duplicates, so the engine stores them without checking. Defaults to
    /// `false`; a calculator that says `true` wrongly makes queries merge wrongly.
    var reportsSortedLists: Bool { get }
}

extension ApplicabilityCalculator {
    /// `false`: the engine checks every list, and sorts the ones that need it.
    public var reportsSortedLists: Bool { false }

    /// `nil`: the calculator reports ids only.
    public func applicablePositions(
        profiles: PreparedProfiles,
        repository: RepositoryIndex
    ) -> [String: UnitPositions]? {
        nil
    }
}

/// A registered calculator with its associated types erased, so the engine can hold several.
struct RegisteredCalculator: Sendable {
    let contentTypes: Set<String>
    let profileTypes: Set<String>
    let reportsSortedLists: Bool
    let normalize: @Sendable (JSONValue, String) throws(PulpError) -> JSONValue
    let makeIndex: @Sendable ([ContentUnit]) -> any Sendable
    let prepare: @Sendable ([String: JSONValue]) throws(PulpError) -> any Sendable
    let compute: @Sendable (_ profiles: any Sendable, _ index: any Sendable) -> [String: [UnitID]]
    let computePositions: @Sendable (_ profiles: any Sendable, _ index: any Sendable) -> [String: UnitPositions]?

    init<Calculator: ApplicabilityCalculator>(_ calculator: Calculator) {
        contentTypes = calculator.contentTypes
        profileTypes = calculator.profileTypes
        reportsSortedLists = calculator.reportsSortedLists
        normalize = { profile, type throws(PulpError) in try calculator.normalize(profile: profile, contentType: type) }
        makeIndex = { calculator.makeIndex(units: $0) }
        prepare = { profiles throws(PulpError) in try calculator.prepare(profiles: profiles) }
        compute = { profiles, index in
            // Both values come from this calculator's own `prepare` and `makeIndex` (see `CalculatorRegistry`).
            calculator.applicableUnits(
                profiles: profiles as! Calculator.PreparedProfiles,
                repository: index as! Calculator.RepositoryIndex
            )
        }
        computePositions = { profiles, index in
            calculator.applicablePositions(
                profiles: profiles as! Calculator.PreparedProfiles,
                repository: index as! Calculator.RepositoryIndex
            )
        }
    }
}

/// The calculators an engine knows, with the rule that no content type or profile type has two.
struct CalculatorRegistry: Sendable {
    private(set) var calculators: [RegisteredCalculator] = []

    /// Adds a calculator; a 400 for an empty type name, a 409 for a type another calculator has.
    mutating func register(_ calculator: RegisteredCalculator) throws(PulpError) {
        if calculator.contentTypes.isEmpty || calculator.contentTypes.contains("") {
            throw PulpError.invalid("content_types", "a calculator needs content types, none of them empty")
        }
        if calculator.profileTypes.isEmpty || calculator.profileTypes.contains("") {
            throw PulpError.invalid("profile_types", "a calculator needs profile types, none of them empty")
        }
        for other in calculators {
            let shared = other.contentTypes.intersection(calculator.contentTypes)
            if !shared.isEmpty {
                throw PulpError.conflict(
                    "A calculator for content types \(PulpError.pythonList(shared.sorted())) is already registered",
                    propertyNames: ["content_types"]
                )
            }
            let sharedProfiles = other.profileTypes.intersection(calculator.profileTypes)
            if !sharedProfiles.isEmpty {
                throw PulpError.conflict(
                    "A calculator for profile types \(PulpError.pythonList(sharedProfiles.sorted())) is already "
                        + "registered",
                    propertyNames: ["profile_types"]
                )
            }
        }
        calculators.append(calculator)
    }

    /// The calculator that normalises profiles of `contentType`, if any.
    func calculator(forProfileType contentType: String) -> RegisteredCalculator? {
        calculators.first { $0.profileTypes.contains(contentType) }
    }

    /// Every content type some calculator reports.
    var contentTypes: Set<String> { calculators.reduce(into: []) { $0.formUnion($1.contentTypes) } }
}
