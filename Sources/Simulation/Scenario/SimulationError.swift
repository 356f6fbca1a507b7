/// A scenario the simulator cannot run, with what is wrong, where, and what to do.
public struct SimulationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Kind of failure.
    public enum Kind: String, Sendable, Equatable {
        /// A parameter is outside its physical or supported range.
        case invalidParameter
        /// Two parameters contradict each other.
        case inconsistentParameters
    }

    /// Kind of failure.
    public var kind: Kind
    /// Dotted path of the offending parameter, e.g. `labA.detector.efficiency`.
    public var parameter: String
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var hint: String

    /// A new error.
    public init(_ kind: Kind, parameter: String, message: String, hint: String) {
        self.kind = kind
        self.parameter = parameter
        self.message = message
        self.hint = hint
    }

    public var description: String { "simulation scenario: \(parameter): \(message) (\(hint))" }
}

/// Small validation helpers shared by the scenario types.
enum Check {
    static func probability(_ value: Double, _ parameter: String) throws {
        guard value.isFinite, value >= 0, value <= 1 else {
            throw SimulationError(.invalidParameter, parameter: parameter,
                                  message: "\(value) is not a probability", hint: "use a number from 0 to 1")
        }
    }

    static func nonNegative(_ value: Double, _ parameter: String) throws {
        guard value.isFinite, value >= 0 else {
            throw SimulationError(.invalidParameter, parameter: parameter,
                                  message: "\(value) must be finite and not negative", hint: "use 0 or a positive number")
        }
    }

    static func nonNegative(_ value: Int64, _ parameter: String) throws {
        guard value >= 0 else {
            throw SimulationError(.invalidParameter, parameter: parameter,
                                  message: "\(value) must not be negative", hint: "use 0 or a positive number")
        }
    }

    static func positive(_ value: Int64, _ parameter: String) throws {
        guard value > 0 else {
            throw SimulationError(.invalidParameter, parameter: parameter,
                                  message: "\(value) must be positive", hint: "use a positive number")
        }
    }

    /// Times in the simulator stay below about 10^17 ps (a day is 8.6·10^16 ps) so that sums of
    /// delays, offsets and jitter never overflow `Int64`.
    static let maxTimePs: Int64 = 100_000_000_000_000_000

    static func time(_ value: Int64, _ parameter: String, allowNegative: Bool = false) throws {
        guard abs(value) <= maxTimePs, allowNegative || value >= 0 else {
            throw SimulationError(.invalidParameter, parameter: parameter,
                                  message: "\(value) ps is out of range",
                                  hint: "use a time between \(allowNegative ? -maxTimePs : 0) and \(maxTimePs) ps")
        }
    }
}
