import LinkModel
import TimeTags

extension ConfigurationMapping {
    /// Herald settings for the configured link, from its resolved herald windows (``ResolvedLink/heraldWindows``):
    /// attempts every attempt period, the station's two detectors (ψ⁺, ψ⁻) recorded by lab A's tagger, clicks
    /// accepted in the station's detection window from each attempt start (Barrett–Kok: a second window one
    /// round separation later) — the windows the simulator realises. Nil for a pair-source link (nothing to
    /// herald) or a configuration without a model or a rate.
    /// - Throws: ``ConfigurationError`` when the configuration does not resolve.
    public static func heralds(_ configuration: LinkConfiguration) throws -> HeraldSettings? {
        try heralds(ResolvedLink(configuration))
    }

    /// Herald settings from a resolved link's herald windows; nil when it heralds nothing.
    public static func heralds(_ link: ResolvedLink) -> HeraldSettings? {
        guard let windows = link.heraldWindows else { return nil }
        var settings = HeraldSettings(repetitionPeriodPs: windows.attemptPeriodPs, windowStartPs: windows.first.startPs,
                                      windowEndPs: windows.first.endPs, stationChannels: windows.stationChannels,
                                      stationLab: windows.stationLab, heraldProtocol: heraldProtocol(windows))
        settings.station = link.station
        return settings
    }

    /// The herald decider's protocol for `windows`: single click, or Barrett–Kok with its second round's window.
    public static func heraldProtocol(_ windows: HeraldWindows) -> HeraldProtocol {
        guard let second = windows.second else { return .singleClick }
        return .barrettKok(secondWindowStartPs: second.startPs, secondWindowEndPs: second.endPs)
    }
}
