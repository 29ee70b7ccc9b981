import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayServer
import SkillRelayStore
import SkillRelayTestSupport
import Testing

/// Time zones and working hours through the API, and what they do to routing: the fixture's clock stands at Friday
/// 2027-01-15 08:00 UTC, which is 09:00 in Berlin and 03:00 in New York.
@Suite struct WorkingHoursAPITests {
    @Test func anEmployeesTimeZoneAndWorkingHoursAreSetShownAndCleared() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let body = #"""
                {"handle":"ines","name":"Ines","email":"ines@example.org","manager":"m","timezone":"Europe/Berlin",
                 "workingHours":"mon-thu 08:00-16:00,Fri 08:00-12:00"}
                """#
            try await client.execute(uri: "/v1/employees", method: .post, headers: fixture.headers(.admin), body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .created)
                #expect(response.text.contains(#""timezone":"Europe\/Berlin""#))
                #expect(response.text.contains(#""workingHours":"Mon-Thu 08:00-16:00, Fri 08:00-12:00""#))
            }
            // Their manager's list of direct reports shows them too.
            try await client.execute(uri: "/v1/employees/m/reports", method: .get, headers: fixture.headers(.m)) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains(#""workingHours":"Mon-Thu 08:00-16:00, Fri 08:00-12:00""#))
            }
            try await client.execute(
                uri: "/v1/employees/ines", method: .patch, headers: fixture.headers(.admin),
                body: ByteBuffer(string: #"{"timezone":null,"workingHours":"Sat 10:00-12:00"}"#)
            ) { response in
                #expect(response.status == .ok)
                #expect(!response.text.contains("timezone"))
                #expect(response.text.contains(#""workingHours":"Sat 10:00-12:00""#))
            }
            try await client.execute(
                uri: "/v1/employees/ines", method: .patch, headers: fixture.headers(.admin), body: ByteBuffer(string: #"{"workingHours":null}"#)
            ) { response in
                #expect(response.status == .ok)
                #expect(!response.text.contains("workingHours"))
            }
        }
    }

    @Test func badWorkingHoursOrTimeZonesAreRefusedWithTheFieldsName() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            for (body, field) in [
                (#"{"workingHours":"Fri 22:00-02:00"}"#, "workingHours"), (#"{"workingHours":"weekdays"}"#, "workingHours"),
                (#"{"timezone":"Mars/Olympus"}"#, "timezone"), (#"{"timezone":"CET+1"}"#, "timezone"),
            ] {
                try await client.execute(uri: "/v1/employees/r", method: .patch, headers: fixture.headers(.admin), body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .unprocessableContent, "\(body)")
                    #expect(response.apiError?.code == "invalid_field", "\(body)")
                    #expect(response.apiError?.message.hasPrefix("'\(field)'") == true, "\(body): \(response.text)")
                }
            }
            let create = #"{"handle":"x","name":"X","email":"x@example.org","workingHours":"Mon-Fri 9-5"}"#
            try await client.execute(uri: "/v1/employees", method: .post, headers: fixture.headers(.admin), body: ByteBuffer(string: create)) {
                response in
                #expect(response.status == .unprocessableContent)
                #expect(response.apiError?.code == "invalid_field")
            }
        }
    }

    @Test func nobodyIsAskedOutsideTheirWorkingHoursWhateverTheirPresence() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(3)
        for (handle, zone) in [("kube.specialist.01", "America/New_York"), ("kube.specialist.02", "Europe/Berlin")] {
            _ = try await fixture.store.updateEmployee(
                handle, with: EmployeePatch(timeZone: .some(zone), workingHours: .some(try WorkingHours(parsing: "Mon-Fri 09:00-17:00"))),
                by: .cliOperator)
        }
        let asked = try await fixture.questions.ask(QuestionDraft(asker: .employee("boss"), topic: "k8s", text: "Who can drain a node?"))
        // 01 is asleep in New York; 02 has just started in Berlin; 03 has no working hours (any time).
        #expect(asked.deliveredTo == 2)
        let recipients = try await fixture.outboxMessages().compactMap { message -> String? in
            if case .question(let question) = message { return question.recipient.handle }
            return nil
        }
        #expect(Set(recipients) == ["kube.specialist.02", "kube.specialist.03"])
    }

    @Test func whereTheIMDoesNotReportPresenceWorkingHoursDecideAndStatsSaySo() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(3, presence: .offline)
        _ = try await fixture.store.updateEmployee(
            "kube.specialist.01",
            with: EmployeePatch(timeZone: .some("America/New_York"), workingHours: .some(try WorkingHours(parsing: "Mon-Fri 09:00-17:00"))),
            by: .cliOperator)
        // Everyone offline, as a homeserver with presence switched off says.
        let presence = FakePresenceSource(
            ["kube.specialist.01": .offline, "kube.specialist.02": .offline, "kube.specialist.03": .offline], reporting: .notReported)
        let reporting = PresenceReportingState()
        let questions = try QuestionService(
            store: fixture.questionStore, presence: presence, settings: Fixture.settings, clock: fixture.clock, presenceReporting: reporting)
        let probed = await questions.probePresenceReporting()
        #expect(probed.reporting == .notReported)
        #expect(probed.previous == .some(nil))
        let asked = try await questions.ask(QuestionDraft(asker: .employee("boss"), topic: "k8s", text: "Who can drain a node?"))
        #expect(asked.deliveredTo == 2)
        // The same people on an IM that reports presence: all offline, nobody asked.
        presence.setReporting(.reported)
        #expect(await questions.probePresenceReporting().previous == .some(.notReported))
        let second = try await questions.ask(QuestionDraft(asker: .employee("boss"), topic: "k8s", text: "Anyone on call for the cluster?"))
        #expect(second.deliveredTo == 0)

        // /v1/stats tells the admin what the last probe found.
        let web = fixture.web
        try await Application(router: buildRouter(store: fixture.store, questions: questions, web: web)).test(.router) { client in
            presence.setReporting(.notReported)
            _ = await questions.probePresenceReporting()
            try await client.execute(uri: "/v1/stats", method: .get, headers: fixture.headers(.admin)) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains(#""reporting":"notReported""#))
            }
            // And so does the admin page, as a warning.
            let admin = try await WebPageTests.signIn("admin", fixture: fixture, client: client)
            let html = try await client.execute(uri: "/admin", method: .get, headers: admin.headers) { $0.text }
            #expect(html.contains(#"<div id="presence-reporting" class="notice warning" role="status">"#))
            #expect(html.contains("The IM server does not report presence: it calls everyone offline."))
        }
    }

    @Test func theTeamAndAdminPagesShowWorkingHoursAndWhetherPresenceIsReported() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.store.updateEmployee(
            "m", with: EmployeePatch(timeZone: .some("Europe/Berlin"), workingHours: .some(try WorkingHours(parsing: "Mon-Fri 09:00-17:00"))),
            by: .cliOperator)
        _ = try await fixture.store.updateEmployee("p", with: EmployeePatch(timeZone: .some("Asia/Tokyo")), by: .cliOperator)
        try await fixture.test { client in
            let boss = try await WebPageTests.signIn("boss", fixture: fixture, client: client)
            let team = try await client.execute(uri: "/team", method: .get, headers: boss.headers) { $0.text }
            #expect(team.contains(#"<p class="hours">Working hours: Mon-Fri 09:00-17:00 (Europe/Berlin)</p>"#))
            #expect(team.contains(#"<p class="hours">Working hours: any time (Asia/Tokyo)</p>"#))
            let admin = try await WebPageTests.signIn("admin", fixture: fixture, client: client)
            var html = try await client.execute(uri: "/admin", method: .get, headers: admin.headers) { $0.text }
            #expect(html.contains("Not checked yet whether the IM server reports presence."))
            // The embedded local IM always reports presence.
            #expect(await fixture.questions.probePresenceReporting().reporting == .reported)
            html = try await client.execute(uri: "/admin", method: .get, headers: admin.headers) { $0.text }
            #expect(html.contains(#"<div id="presence-reporting" role="status">"#))
            #expect(html.contains("The IM server reports presence."))
        }
    }
}
