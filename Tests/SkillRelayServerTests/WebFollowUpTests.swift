import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayServer
import Testing

/// Follow-ups on the web page: the thread under the answer on the question's page, and under the answer in the inbox,
/// each with a form; aliases only, and what people type shown as text.
@Suite struct WebFollowUpTests {
    @Test func bothPagesShowTheThreadAndTakeAFollowUp() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        try await fixture.test { client in
            let asker = try await WebPageTests.signIn("boss", fixture: fixture, client: client)
            let (headers, body) = asker.form(["topic": "k8s", "text": "How do I drain a node?", "maxAnswers": "1"])
            let page = try await client.execute(uri: "/ask", method: .post, headers: headers, body: body) { try #require($0.headers[.location]) }
            let specialist = try await WebPageTests.signIn("kube.specialist.01", fixture: fixture, client: client)
            var inbox = try await client.execute(uri: "/inbox", method: .get, headers: specialist.headers) { $0.text }
            let answer = try #require(inbox.range(of: #"/inbox/d_[0-9a-f]+/answer"#, options: .regularExpression).map { String(inbox[$0]) })
            // No thread before the answer was relayed.
            #expect(!inbox.contains("/messages\""))
            let (answerHeaders, answerBody) = specialist.form(["text": "kubectl drain"])
            try await client.execute(uri: answer, method: .post, headers: answerHeaders, body: answerBody) { #expect($0.status == .seeOther) }

            // The asker writes under answer 1 from the question's page.
            var question = try await client.execute(uri: page, method: .get, headers: asker.headers) { $0.text }
            #expect(question.contains(#"action="\#(page)/answers/1/messages""#))
            let (askHeaders, askBody) = asker.form(["text": "Does <that> work on 1.29?"])
            try await client.execute(uri: "\(page)/answers/1/messages", method: .post, headers: askHeaders, body: askBody) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == page)
            }

            // The specialist sees it under their answer, from "the asker", and writes back.
            inbox = try await client.execute(uri: "/inbox", method: .get, headers: specialist.headers) { $0.text }
            #expect(inbox.contains("<strong>the asker</strong>"))
            #expect(inbox.contains("Does &lt;that&gt; work on 1.29?"))
            #expect(!inbox.contains("Boss"))
            let thread = answer.replacingOccurrences(of: "/answer", with: "/messages")
            #expect(inbox.contains(#"action="\#(thread)""#))
            let (backHeaders, backBody) = specialist.form(["text": "Yes."])
            try await client.execute(uri: thread, method: .post, headers: backHeaders, body: backBody) { #expect($0.status == .seeOther) }

            question = try await client.execute(uri: page, method: .get, headers: asker.headers) { $0.text }
            #expect(question.contains("<strong>you</strong>"))
            #expect(question.contains("<strong>specialist 1</strong>"))
            #expect(question.contains(#"<p class="follow-up-text">Yes.</p>"#))
            #expect(question.contains(#"data-follow-ups="2""#))
            #expect(!question.contains("kube.specialist.01") && !question.contains("Specialist 1 Person"))

            // A week after the question closed (signed in afresh: a session lasts twelve hours), the form is gone and a
            // post is refused.
            fixture.clock.advance(by: 7 * 86_400)
            let later = try await WebPageTests.signIn("boss", fixture: fixture, client: client)
            question = try await client.execute(uri: page, method: .get, headers: later.headers) { $0.text }
            #expect(question.contains("Does &lt;that&gt; work on 1.29?"))
            #expect(!question.contains("/answers/1/messages"))
            let (lateHeaders, lateBody) = later.form(["text": "One more thing"])
            try await client.execute(uri: "\(page)/answers/1/messages", method: .post, headers: lateHeaders, body: lateBody) { response in
                #expect(response.status == .conflict)
                #expect(response.text.contains("closed"))
            }
        }
    }
}
