import Hummingbird
import SkillRelayDomain

/// Where revealing stands for one answer (on the asker's question page) or one answered delivery (in the specialist's
/// inbox), as the page shows it: a sentence, and the buttons that make sense now.
struct RevealItem {
    /// Where the buttons post: `…/reveal` takes `action` = `offer` (which also accepts the other side's offer),
    /// `withdraw` or `decline`.
    var action: String
    var text: String
    var canOffer: Bool
    var canAccept: Bool
    var canWithdraw: Bool
    var revealed: Bool
    var name: String
    var imID: String

    /// `other` names the other side as the page's reader knows them: "specialist 2", or "the colleague who asked".
    init(_ view: RevealView, action: String, other: String) {
        self.action = action
        canOffer = view.state == .none
        canAccept = view.state == .invited
        canWithdraw = view.state == .offered
        revealed = view.state == .revealed
        name = view.other?.name ?? ""
        imID = view.other?.imID ?? ""
        text =
            switch view.state {
            case .none: "You may offer to introduce yourselves; \(other) learns who you are only if they agree too."
            case .offered: "You offered to introduce yourselves; \(other) has not answered yet."
            case .invited: "\(other.prefix(1).uppercased() + other.dropFirst()) would like to introduce themselves."
            case .revealed: "You introduced yourselves:"
            case .declined: "No introduction: it was declined."
            }
    }

    /// What a reveal form's `action` asks for.
    static func requested(_ context: WebRequestContext) throws -> RevealAction {
        guard let action = context.form.text("action").flatMap(RevealAction.init(rawValue:)) else {
            throw APIError.badRequest("A reveal needs action=offer, withdraw or decline.")
        }
        return action
    }

    /// The notice after a reveal form, from what changed.
    static func notice(_ action: RevealAction, _ view: RevealView, other: String) -> String {
        switch (action, view.state) {
        case (_, .revealed): "You introduced yourselves: \(other) now knows who you are, and you them."
        case (.offer, _): "Offered: \(other) is asked whether they want to introduce themselves too."
        case (.withdraw, _): "Your offer is withdrawn."
        case (.decline, _): "Declined: nobody is introduced."
        }
    }
}
