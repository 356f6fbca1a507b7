import LinkModel

/// A change of a running simulation's repetition rate: from link time `fromPs` on (the generator's
/// axis: emission time of a pair source, the station's attempt clock of a heralded link) the link runs
/// at `rateHz` — one entry of the link's ``RateSchedule``.
public typealias RepetitionRateChange = RateSchedule.Change

/// Checks shared by the simulators' scenario changes.
enum ScenarioChangeCheck {
    /// A change must lie in the part of the run not generated yet, and after the previous change.
    static func time(_ fromPs: Int64, generatedThroughPs: Int64, lastChangePs: Int64) throws {
        guard fromPs >= generatedThroughPs else {
            throw SimulationError(.invalidParameter, parameter: "fromPs",
                                  message: "link time \(fromPs) ps is already generated (up to \(generatedThroughPs) ps)",
                                  hint: "schedule the change at or after the end of the generated windows")
        }
        guard fromPs >= lastChangePs else {
            throw SimulationError(.invalidParameter, parameter: "fromPs",
                                  message: "link time \(fromPs) ps is before the previous change at \(lastChangePs) ps",
                                  hint: "schedule changes in time order")
        }
    }

    /// The error for a new scenario that differs in more than its operating point.
    static let structureChanged = SimulationError(
        .inconsistentParameters, parameter: "scenario",
        message: "the new scenario differs in more than the operating point (rates, noise, transmissions, visibility)",
        hint: "keep channels, delays, detector timing, clocks, bases and faults as they are")
}
