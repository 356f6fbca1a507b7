/// Which measurement basis a lab uses when: the setting changes every ``periodPs`` of true
/// arrival time at the lab, cycling through ``bases`` or drawing one at random per period.
/// At the start of every period the lab's tagger records a marker whose number is the index of
/// the basis in ``bases`` plus ``markerBase`` (when ``announceWithMarkers`` is on).
public struct BasisSchedule: Sendable, Equatable, Codable {
    /// How the next basis is chosen.
    public enum Order: String, Sendable, Equatable, Codable {
        /// Period k uses `bases[k mod count]`.
        case cyclic
        /// Period k uses a basis drawn uniformly (deterministically from the run seed).
        case random
    }

    /// The settings (at least one).
    public var bases: [MeasurementBasis]
    /// How long each setting is held, in ps.
    public var periodPs: Int64
    /// How the settings follow each other.
    public var order: Order
    /// Whether each period start is recorded as a marker event.
    public var announceWithMarkers: Bool
    /// Added to the basis index to form the marker number.
    public var markerBase: Int32

    /// A schedule; by default cyclic, 1 ms per setting, announced with markers 0, 1, …
    public init(bases: [MeasurementBasis], periodPs: Int64 = 1_000_000_000, order: Order = .cyclic,
                announceWithMarkers: Bool = true, markerBase: Int32 = 0) {
        self.bases = bases
        self.periodPs = periodPs
        self.order = order
        self.announceWithMarkers = announceWithMarkers
        self.markerBase = markerBase
    }

    /// One fixed basis, never announced.
    public static func fixed(_ basis: MeasurementBasis) -> BasisSchedule {
        BasisSchedule(bases: [basis], periodPs: 1_000_000_000_000, announceWithMarkers: false)
    }

    /// Index of the basis used in period `period` (`seed` is the stream's schedule seed).
    @inlinable
    func basisIndex(period: Int64, seed: UInt64) -> Int {
        let count = UInt64(bases.count)
        switch order {
        case .cyclic: return Int(UInt64(period) % count)
        case .random: return Int(SplitMix64.mix(seed ^ UInt64(period) &* 0x9E37_79B9_7F4A_7C15) % count)
        }
    }

    func validate(_ path: String) throws {
        guard !bases.isEmpty, bases.count <= 64 else {
            throw SimulationError(.invalidParameter, parameter: path + ".bases",
                                  message: "\(bases.count) bases", hint: "give between 1 and 64 bases")
        }
        for (index, basis) in bases.enumerated() where !basis.isFinite {
            throw SimulationError(.invalidParameter, parameter: path + ".bases[\(index)]",
                                  message: "angle is not finite", hint: "use finite angles in degrees")
        }
        try Check.positive(periodPs, path + ".periodPs")
        try Check.time(periodPs, path + ".periodPs")
        if announceWithMarkers && periodPs < 1_000 {
            throw SimulationError(.invalidParameter, parameter: path + ".periodPs",
                                  message: "announced periods shorter than 1 ns", hint: "use a longer period or turn off markers")
        }
    }
}
