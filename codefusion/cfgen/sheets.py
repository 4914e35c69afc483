"""Tables like the sheets people select: 3-8 columns, several of the same type, abbreviated and
unit-bearing headers, numbers and percents stored as text, dates, blanks, error values and IDs.

A `Field` knows its header spellings, its type, how to draw a cell, the words a request uses for it
(synonyms, other languages) and, for coded columns (M/F, Y/N), which request words stand for which
cell value. A `Sheet` groups the fields of one kind of sheet with the nouns for its rows. The
domains here are the project's own (helpdesk, fleet, clinic, library, ...); none is copied from an
evaluation set.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

BASE_DAY = date(2025, 6, 2)     # generated dates lie around this day; no wide rule depends on today


@dataclass(frozen=True)
class Field:
    headers: tuple[str, ...]
    kind: str                                  # number | text | date
    make: Callable[[random.Random], object]
    words: tuple[str, ...] = ()                # how requests name it besides its header
    categorical: bool = False                  # few distinct values: equality and OR rules fit
    unit: str = ""                             # money | percent | count | measure | score | days
    aliases: tuple[tuple[str, str], ...] = ()  # (request word, cell value): "women" -> "F"
    free_text: bool = False                    # long text (comments): length rules fit
    identifier: bool = False                   # IDs and names: duplicate/unique rules fit


@dataclass(frozen=True)
class Sheet:
    name: str
    rows_noun: tuple[str, ...]                 # plural nouns for the rows ("tickets", "patients")
    fields: tuple[Field, ...]
    lang: str = "en"
    preamble: tuple[str, ...] = field(default=())   # what a forum post says the sheet is


def pick(*values):
    return lambda rng: rng.choice(values)


def integer(lo, hi, step=1):
    return lambda rng: rng.randrange(lo, hi + 1, step)


def decimal(lo, hi, places=2):
    return lambda rng: round(rng.uniform(lo, hi), places)


def percent(lo, hi):
    return lambda rng: rng.randint(lo, hi) / 100


def day(before=120, after=120):
    return lambda rng: (BASE_DAY + timedelta(days=rng.randint(-before, after))).isoformat()


def ident(prefix, width=4, lo=1, hi=9999):
    return lambda rng: f"{prefix}{rng.randint(lo, hi):0{width}d}"


FIRST = ("Aiko", "Bruno", "Chiara", "Dmitri", "Elena", "Femi", "Gustav", "Hana", "Ivo", "Jana", "Kofi", "Lena",
         "Mateo", "Nadia", "Oskar", "Pia", "Rahul", "Sanna", "Tomás", "Ursula", "Vera", "Wim", "Yara", "Zeno",
         "Ada", "Benji", "Cleo", "Dario", "Esme", "Fynn", "Greta", "Hugo", "Isla", "Joon", "Kira", "Luca")
LAST = ("Andersen", "Baptiste", "Castillo", "Dąbrowski", "Eriksen", "Fischer", "Gómez", "Horvat", "Ito",
        "Jovanović", "Keller", "Lindqvist", "Moreau", "Nakamura", "O'Brien", "Petrov", "Quaresma", "Rahman",
        "Schäfer", "Takahashi", "Urban", "Varga", "Weber", "Yilmaz", "Zhou", "Achebe", "Brennan", "Costa")


def person(rng):
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def first_name(rng):
    return rng.choice(FIRST)


NOTES = ("ok", "Called back", "needs follow-up", "Waiting on parts from the supplier, expected next week",
         "fine", "Customer asked for a refund after the second failed delivery attempt", "n/a",
         "Escalated to second line support", "Resolved on the phone", "Duplicate of an earlier request",
         "Replaced the battery and ran the full diagnostic, no further faults found", "pending",
         "Left a voicemail", "Rescheduled twice because the room was double booked by another team",
         "see email", "Approved by the area manager", "Invoice disputed: quantities do not match the delivery note")

F = Field
SHEETS: tuple[Sheet, ...] = (
    Sheet("helpdesk", ("tickets", "requests", "cases", "issues"), (
        F(("Ticket", "Ticket #", "Ticket ID", "Ref"), "text", ident("TKT-"), ("ticket", "ticket number"), identifier=True),
        F(("Requester", "Raised By", "User"), "text", person, ("requester", "user", "reporter"), identifier=True),
        F(("Priority", "Prio", "Pri."), "text", pick("P1", "P2", "P3", "P4"), ("priority",), True),
        F(("Status", "State"), "text", pick("Open", "Closed", "Pending", "On hold", "Resolved"), ("status",), True),
        F(("Hrs Open", "Age (h)", "Hours Open"), "number", integer(1, 400), ("hours open", "age"), unit="count"),
        F(("Reopened", "# Reopens", "Times Reopened"), "number", integer(0, 6), ("reopens",), unit="count"),
        F(("CSAT", "Satisfaction", "CSAT %"), "number", percent(20, 100), ("satisfaction", "csat score"), unit="percent"),
        F(("Opened", "Date Opened", "Created"), "date", day(), ("opened date", "creation date")),
        F(("Notes", "Comment", "Remarks"), "text", pick(*NOTES), ("notes", "comments"), free_text=True),
    ), preamble=("a helpdesk export", "a list of support tickets", "our IT ticket log")),
    Sheet("fleet", ("vehicles", "cars", "vans", "trucks"), (
        F(("Reg", "Reg No.", "Plate", "Registration"), "text", ident("VH-", 3, 1, 999), ("plate", "registration"), identifier=True),
        F(("Make", "Brand"), "text", pick("Ford", "Volvo", "Toyota", "Renault", "Iveco", "Škoda"), ("make", "brand"), True),
        F(("Driver", "Assigned Driver"), "text", person, ("driver",), identifier=True),
        F(("Mileage", "Odometer (km)", "Km", "Odo"), "number", integer(3000, 240000, 10), ("mileage", "odometer", "kilometres"), unit="measure"),
        F(("Fuel (L/100km)", "Consumption", "L/100"), "number", decimal(4.5, 14.0, 1), ("fuel use", "consumption"), unit="measure"),
        F(("Service Cost", "Maint. Cost ($)", "Repair Cost"), "number", integer(0, 6000, 5), ("service cost", "repair bill", "maintenance cost"), unit="money"),
        F(("Next Service", "Service Due", "Next Insp."), "date", day(60, 200), ("next service", "service date")),
        F(("Status", "Condition"), "text", pick("Active", "In workshop", "Sold", "Reserved"), ("status", "condition"), True),
        F(("Year", "Model Year"), "number", integer(2009, 2025), ("model year", "year"), unit="count"),
    ), preamble=("our company fleet", "a vehicle register", "a list of company cars")),
    Sheet("clinic", ("appointments", "patients", "visits", "bookings"), (
        F(("Patient", "Patient Name", "Name"), "text", person, ("patient", "name"), identifier=True),
        F(("MRN", "Patient ID", "File No"), "text", ident("MRN", 6, 1000, 999999), ("patient id", "record number"), identifier=True),
        F(("Sex", "Gender"), "text", pick("M", "F"), ("gender", "sex"), True,
          aliases=(("women", "F"), ("female patients", "F"), ("men", "M"), ("male patients", "M"))),
        F(("Age",), "number", integer(1, 96), ("age",), unit="count"),
        F(("BP Sys", "Systolic", "SBP (mmHg)"), "number", integer(90, 190), ("systolic", "blood pressure"), unit="measure"),
        F(("Wait (min)", "Waiting Time", "Wait"), "number", integer(0, 150), ("wait", "waiting time"), unit="measure"),
        F(("Visit Date", "Appt Date", "Date"), "date", day(), ("visit date", "appointment date")),
        F(("Doctor", "Clinician", "Dr."), "text", pick("Dr Osei", "Dr Laurent", "Dr Kaur", "Dr Brandt", "Dr Silva"), ("doctor", "clinician"), True),
        F(("No-show", "Attended?"), "text", pick("Y", "N"), ("attendance", "no-show"), True,
          aliases=(("did not show up", "Y"), ("no-shows", "Y"))),
    ), preamble=("our clinic's appointment list", "a patient schedule", "the booking sheet for the practice")),
    Sheet("library", ("loans", "books", "titles", "items"), (
        F(("Title", "Book Title"), "text", pick("The Salt Road", "Night Trains", "A Field Guide to Moss", "Glass Harbour",
                                                  "Small Engines", "Winter Accounts", "The Quiet Kitchen", "Paper Tigers",
                                                  "Lanterns", "North of Nowhere"), ("title", "book"), True),
        F(("ISBN", "Barcode", "Item ID"), "text", ident("978-", 9, 100000000, 999999999), ("isbn", "barcode"), identifier=True),
        F(("Borrower", "Member", "Patron"), "text", person, ("borrower", "member"), identifier=True),
        F(("Days Out", "Loan Days", "Days on Loan"), "number", integer(0, 90), ("days out", "loan length"), unit="days"),
        F(("Late Fee", "Fine ($)", "Fine"), "number", decimal(0, 25, 2), ("fine", "late fee"), unit="money"),
        F(("Renewals", "# Renewals"), "number", integer(0, 5), ("renewals",), unit="count"),
        F(("Due Back", "Due Date", "Return By"), "date", day(40, 40), ("due date", "return date")),
        F(("Branch", "Library"), "text", pick("Central", "Riverside", "Eastgate", "Hillcrest"), ("branch",), True),
    ), preamble=("our library loans", "a list of borrowed books", "the loans report")),
    Sheet("hotel", ("bookings", "reservations", "stays", "guests"), (
        F(("Guest", "Guest Name"), "text", person, ("guest",), identifier=True),
        F(("Conf #", "Booking Ref", "Confirmation"), "text", ident("BK", 5, 10000, 99999), ("booking reference", "confirmation number"), identifier=True),
        F(("Room Type", "Room"), "text", pick("Single", "Double", "Twin", "Suite", "Family"), ("room type",), True),
        F(("Nights", "# Nights", "LOS"), "number", integer(1, 14), ("nights", "length of stay"), unit="count"),
        F(("Rate", "Nightly Rate (€)", "ADR"), "number", integer(60, 420), ("rate", "nightly rate", "price"), unit="money"),
        F(("Total", "Total (€)", "Invoice Total"), "number", integer(60, 5000), ("total", "bill"), unit="money"),
        F(("Check-in", "Arrival", "Arr. Date"), "date", day(), ("arrival", "check-in date")),
        F(("Channel", "Source"), "text", pick("Direct", "OTA", "Phone", "Agent", "Walk-in"), ("channel", "source"), True),
        F(("Paid?", "Deposit Paid"), "text", pick("Yes", "No"), ("paid", "deposit"), True,
          aliases=(("unpaid", "No"), ("not paid", "No"), ("already paid", "Yes"))),
    ), preamble=("a bookings sheet for our hotel", "the reservations export", "our guest list for the season")),
    Sheet("bids", ("bids", "quotes", "vendors", "tenders"), (
        F(("Vendor", "Supplier", "Contractor"), "text", pick("Kestrel Build", "Norland Steel", "Apex Roofing",
                                                             "Brightline Electric", "Harbour Concrete", "Vega Glazing"),
          ("vendor", "supplier", "contractor"), True),
        F(("Bid ID", "Quote No.", "Ref #"), "text", ident("Q-", 4), ("quote number", "bid id"), identifier=True),
        F(("Bid Amt", "Quote ($)", "Price Quoted", "Amount"), "number", integer(8000, 480000, 100), ("bid", "quote", "price", "amount"), unit="money"),
        F(("Estimate", "Budget ($)", "Our Estimate"), "number", integer(8000, 480000, 500), ("estimate", "budget"), unit="money"),
        F(("Lead Time (wks)", "Weeks", "Lead Time"), "number", integer(1, 30), ("lead time", "weeks"), unit="count"),
        F(("Score", "Eval Score", "Rating /10"), "number", decimal(1, 10, 1), ("score", "evaluation score", "rating"), unit="score"),
        F(("Submitted", "Date Rec'd", "Received"), "date", day(), ("submission date", "received date")),
        F(("Outcome", "Result"), "text", pick("Shortlisted", "Rejected", "Awarded", "Under review"), ("outcome", "result"), True),
    ), preamble=("a tender comparison", "quotes from contractors", "the bid evaluation sheet")),
    Sheet("meters", ("readings", "meters", "sites", "rows"), (
        F(("Site", "Building", "Location"), "text", pick("Depot A", "Depot B", "HQ", "Warehouse 3", "Lab", "Shop"), ("site", "building"), True),
        F(("Meter", "Meter ID", "MPAN"), "text", ident("MTR", 5, 10000, 99999), ("meter", "meter number"), identifier=True),
        F(("kWh", "Usage (kWh)", "Consumption"), "number", integer(120, 48000), ("usage", "consumption", "kilowatt hours"), unit="measure"),
        F(("Prev kWh", "Last Month", "Prior Period"), "number", integer(120, 48000), ("previous usage", "last month"), unit="measure"),
        F(("Cost (£)", "Charge", "Bill"), "number", decimal(20, 9000, 2), ("cost", "charge", "bill"), unit="money"),
        F(("Change", "Δ %", "Change %"), "number", percent(-40, 60), ("change", "growth"), unit="percent"),
        F(("Read Date", "Reading Date"), "date", day(), ("reading date",)),
        F(("Tariff", "Rate Plan"), "text", pick("Standard", "Economy 7", "Green", "Fixed 24"), ("tariff", "plan"), True),
    ), preamble=("our energy meter readings", "utility usage per site", "the monthly meter log")),
    Sheet("gym", ("members", "memberships", "customers", "people"), (
        F(("Member", "Member Name", "Name"), "text", person, ("member", "name"), identifier=True),
        F(("Member #", "Card No", "ID"), "text", ident("GM", 5, 100, 99999), ("member number", "card number"), identifier=True),
        F(("Plan", "Membership", "Tier"), "text", pick("Basic", "Plus", "Premium", "Student", "Off-peak"), ("plan", "membership", "tier"), True),
        F(("Visits", "Visits/Mo", "# Visits"), "number", integer(0, 30), ("visits", "check-ins"), unit="count"),
        F(("Fee", "Monthly Fee ($)", "Dues"), "number", integer(15, 120), ("fee", "dues", "monthly fee"), unit="money"),
        F(("Balance", "Owed", "Arrears"), "number", decimal(-50, 300, 2), ("balance", "amount owed"), unit="money"),
        F(("Joined", "Start", "Join Date"), "date", day(700, 0), ("join date", "start date")),
        F(("Active", "Active?"), "text", pick("Y", "N"), ("active",), True,
          aliases=(("inactive", "N"), ("lapsed", "N"), ("active members", "Y"))),
    ), preamble=("our gym membership list", "a member roster", "the club's subscriptions")),
    Sheet("claims", ("claims", "cases", "files", "policies"), (
        F(("Claim #", "Claim No", "Claim ID"), "text", ident("CLM-", 5, 100, 99999), ("claim number",), identifier=True),
        F(("Policyholder", "Insured", "Customer"), "text", person, ("policyholder", "customer"), identifier=True),
        F(("Type", "Claim Type", "Line"), "text", pick("Auto", "Home", "Travel", "Health", "Pet"), ("type", "claim type"), True),
        F(("Claimed", "Amt Claimed ($)", "Claim Amount"), "number", integer(100, 90000, 10), ("claimed amount", "claim amount"), unit="money"),
        F(("Paid", "Amt Paid ($)", "Settled"), "number", integer(0, 90000, 10), ("paid amount", "settlement"), unit="money"),
        F(("Days Open", "Age (days)", "Cycle Time"), "number", integer(1, 240), ("days open", "age"), unit="days"),
        F(("Filed", "Date Filed", "Reported"), "date", day(), ("filing date",)),
        F(("Adjuster", "Handler"), "text", pick("Okafor", "Lindgren", "Castro", "Mbeki", "Novak"), ("adjuster", "handler"), True),
        F(("Fraud Flag", "Flagged"), "text", pick("Yes", "No", ""), ("fraud flag",), True),
    ), preamble=("an insurance claims register", "the open claims report", "a list of claims")),
    Sheet("timesheet", ("entries", "rows", "lines", "days"), (
        F(("Employee", "Staff", "Name"), "text", first_name, ("employee", "staff member"), True),
        F(("Project", "Job", "Job Code"), "text", pick("Apollo", "Birch", "Cobalt", "Delta", "Internal"), ("project", "job"), True),
        F(("Hours", "Hrs", "Hours Logged"), "number", decimal(0, 12, 1), ("hours", "time logged"), unit="count"),
        F(("Overtime", "OT Hrs", "OT"), "number", decimal(0, 5, 1), ("overtime",), unit="count"),
        F(("Billable %", "Utilisation", "Util."), "number", percent(0, 100), ("billable share", "utilisation"), unit="percent"),
        F(("Date", "Work Date", "Day"), "date", day(), ("date", "work day")),
        F(("Approved", "Approval"), "text", pick("Approved", "Rejected", "Submitted", "Draft"), ("approval", "approval status"), True),
        F(("Comment", "Description", "Task"), "text", pick(*NOTES), ("description", "comment"), free_text=True),
    ), preamble=("my team's timesheets", "a weekly time log", "the hours report")),
    Sheet("invoices", ("invoices", "bills", "customers", "accounts"), (
        F(("Invoice", "Inv #", "Invoice No."), "text", ident("INV-", 5, 100, 99999), ("invoice", "invoice number"), identifier=True),
        F(("Client", "Customer", "Account"), "text", pick("Larkspur Ltd", "Odeon Foods", "Tallis & Co", "Mireille SA",
                                                          "Quinta Verde", "Hollis Print", "Brava Media"), ("client", "customer"), True),
        F(("Amount", "Amt ($)", "Inv. Total", "Net"), "number", integer(90, 60000), ("amount", "invoice total", "value"), unit="money"),
        F(("Outstanding", "Balance Due", "Open Amt"), "number", integer(0, 60000), ("outstanding", "balance due"), unit="money"),
        F(("Days Overdue", "DPD", "Days Late"), "number", integer(0, 120), ("days overdue", "days late"), unit="days"),
        F(("Issued", "Inv Date", "Invoice Date"), "date", day(), ("invoice date", "issue date")),
        F(("Due", "Due Date", "Pay By"), "date", day(60, 90), ("due date",)),
        F(("Status", "Pmt Status"), "text", pick("Paid", "Unpaid", "Partial", "Disputed", "Written off"), ("status", "payment status"), True),
    ), preamble=("accounts receivable", "our invoice list", "unpaid invoices from the billing system")),
    Sheet("campaigns", ("campaigns", "ads", "channels", "rows"), (
        F(("Campaign", "Campaign Name"), "text", pick("Spring Launch", "Retarget EU", "Brand Video", "Webinar Q2",
                                                      "Holiday Promo", "Partner Push", "Newsletter"), ("campaign",), True),
        F(("Channel", "Medium"), "text", pick("Search", "Display", "Social", "Email", "Affiliate"), ("channel", "medium"), True),
        F(("Spend", "Spend ($)", "Cost"), "number", integer(200, 90000, 10), ("spend", "cost", "budget used"), unit="money"),
        F(("Clicks", "# Clicks"), "number", integer(10, 80000), ("clicks",), unit="count"),
        F(("CTR", "CTR %", "Click Rate"), "number", percent(0, 18), ("ctr", "click-through rate"), unit="percent"),
        F(("Conv.", "Conversions", "Leads"), "number", integer(0, 2500), ("conversions", "leads"), unit="count"),
        F(("ROAS", "Return"), "number", decimal(0, 9, 2), ("roas", "return on ad spend"), unit="score"),
        F(("Start", "Launch Date"), "date", day(), ("launch date", "start date")),
    ), preamble=("our marketing campaigns", "ad performance by campaign", "a campaign report")),
    Sheet("harvest", ("plots", "fields", "batches", "rows"), (
        F(("Plot", "Field", "Block"), "text", ident("P-", 2, 1, 60), ("plot", "field"), identifier=True),
        F(("Crop", "Variety"), "text", pick("Wheat", "Barley", "Oats", "Rapeseed", "Potatoes", "Beans"), ("crop", "variety"), True),
        F(("Yield (t/ha)", "Yield", "t/ha"), "number", decimal(0.8, 11.0, 2), ("yield",), unit="measure"),
        F(("Area (ha)", "Hectares", "Area"), "number", decimal(0.5, 80, 1), ("area", "hectares"), unit="measure"),
        F(("Moisture %", "Moist.", "Moisture"), "number", percent(8, 30), ("moisture",), unit="percent"),
        F(("Rain (mm)", "Rainfall"), "number", integer(100, 1200), ("rainfall", "rain"), unit="measure"),
        F(("Harvested", "Harvest Date"), "date", day(), ("harvest date",)),
        F(("Grade", "Quality"), "text", pick("Premium", "Standard", "Feed", "Rejected"), ("grade", "quality"), True),
    ), preamble=("harvest records for the farm", "yields by plot", "our field log")),
    Sheet("league", ("teams", "clubs", "players", "rows"), (
        F(("Team", "Club"), "text", pick("Rovers", "Athletic", "United", "Wanderers", "Harriers", "City", "Rangers", "Albion"), ("team", "club"), True),
        F(("P", "Played", "GP"), "number", integer(10, 30), ("games played", "played"), unit="count"),
        F(("W", "Won", "Wins"), "number", integer(0, 25), ("wins", "won"), unit="count"),
        F(("L", "Lost", "Losses"), "number", integer(0, 25), ("losses", "lost"), unit="count"),
        F(("GD", "Goal Diff", "+/-"), "number", integer(-30, 40), ("goal difference",), unit="score"),
        F(("Pts", "Points"), "number", integer(0, 75), ("points",), unit="score"),
        F(("Form", "Last 5"), "text", pick("WWDLW", "LLDWL", "WDWWW", "DDLLW", "LWLWD", "WWWWL"), ("form",), True),
        F(("Coach", "Manager"), "text", person, ("coach", "manager"), identifier=True),
    ), preamble=("a league table", "our five-a-side standings", "season stats for the league")),
    Sheet("budget", ("lines", "cost centres", "departments", "items"), (
        F(("Cost Centre", "Dept", "Department"), "text", pick("Facilities", "Research", "Legal", "Customer Care",
                                                              "Procurement", "Logistics", "Design"), ("department", "cost centre"), True),
        F(("Line Item", "Item", "Description"), "text", pick("Travel", "Software licences", "Training", "Rent",
                                                             "Consultants", "Equipment", "Catering"), ("line item", "item"), True),
        F(("Budget", "Plan ($)", "Budgeted"), "number", integer(1000, 250000, 500), ("budget", "plan", "planned amount"), unit="money"),
        F(("Actual", "Actual ($)", "Spent"), "number", integer(500, 260000, 10), ("actual", "actual spend", "spending"), unit="money"),
        F(("Var.", "Variance", "Var ($)"), "number", integer(-40000, 40000, 10), ("variance", "difference"), unit="money"),
        F(("% Used", "Utilised", "Burn %"), "number", percent(5, 140), ("share used", "burn rate"), unit="percent"),
        F(("Owner", "Approver"), "text", first_name, ("owner", "approver"), True),
        F(("Q", "Quarter"), "text", pick("Q1", "Q2", "Q3", "Q4"), ("quarter",), True),
    ), preamble=("a departmental budget", "budget vs actuals", "our cost centre report")),
    Sheet("fahrten", ("Fahrten", "Zeilen", "Einträge"), (
        F(("Fahrer", "Name"), "text", person, ("fahrer",), identifier=True),
        F(("Kennzeichen", "Kfz"), "text", pick("B-KL 204", "M-XR 88", "HH-TS 310", "K-PA 17", "S-EW 902"), ("kennzeichen",), True),
        F(("Strecke (km)", "Km", "Entfernung"), "number", integer(5, 900), ("strecke", "kilometer"), unit="measure"),
        F(("Kosten (€)", "Betrag", "Kosten"), "number", decimal(3, 600, 2), ("kosten", "betrag"), unit="money"),
        F(("Zweck", "Anlass"), "text", pick("Kundentermin", "Messe", "Schulung", "Lieferung", "Privat"), ("zweck",), True),
        F(("Datum", "Fahrtdatum"), "date", day(), ("datum",)),
        F(("Status",), "text", pick("Erstattet", "Offen", "Abgelehnt"), ("status",), True),
    ), lang="de", preamble=("ein Fahrtenbuch", "eine Liste unserer Dienstfahrten")),
    Sheet("factures", ("factures", "lignes", "clients"), (
        F(("N° facture", "Facture"), "text", ident("FA-", 4), ("numéro de facture",), identifier=True),
        F(("Client", "Société"), "text", pick("Boulangerie Roux", "Atelier Morel", "Garage Petit", "Pharmacie Blanc", "Café Lune"), ("client",), True),
        F(("Montant (€)", "Montant", "Total TTC"), "number", integer(40, 24000), ("montant", "total"), unit="money"),
        F(("Remise", "Remise %"), "number", percent(0, 30), ("remise",), unit="percent"),
        F(("Échéance", "Date limite"), "date", day(30, 90), ("échéance",)),
        F(("Statut", "État"), "text", pick("Payée", "En retard", "Brouillon", "Envoyée"), ("statut",), True),
        F(("Jours de retard", "Retard (j)"), "number", integer(0, 90), ("retard", "jours de retard"), unit="days"),
    ), lang="fr", preamble=("un tableau de factures", "la liste de nos factures clients")),
    Sheet("reservas", ("reservas", "filas", "clientes"), (
        F(("Cliente", "Huésped", "Nombre"), "text", person, ("cliente", "huésped"), identifier=True),
        F(("Habitación", "Tipo"), "text", pick("Individual", "Doble", "Suite", "Familiar"), ("habitación", "tipo de habitación"), True),
        F(("Noches", "Nº noches"), "number", integer(1, 12), ("noches",), unit="count"),
        F(("Precio (€)", "Precio", "Importe"), "number", integer(45, 3200), ("precio", "importe"), unit="money"),
        F(("Ocupación", "Ocupación %"), "number", percent(20, 100), ("ocupación",), unit="percent"),
        F(("Llegada", "Fecha"), "date", day(), ("fecha de llegada",)),
        F(("Estado",), "text", pick("Confirmada", "Cancelada", "Pendiente", "No presentado"), ("estado",), True),
    ), lang="es", preamble=("una hoja de reservas", "las reservas del hostal")),
    Sheet("peixun", ("员工", "记录", "行"), (
        F(("员工", "姓名"), "text", pick("王芳", "李强", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄涛"), ("员工", "姓名"), identifier=True),
        F(("部门",), "text", pick("销售部", "研发部", "财务部", "人事部", "客服部"), ("部门",), True),
        F(("课时", "学时"), "number", integer(2, 60), ("课时", "学时"), unit="count"),
        F(("成绩", "考核分"), "number", integer(35, 100), ("成绩", "分数"), unit="score"),
        F(("完成率",), "number", percent(10, 100), ("完成率",), unit="percent"),
        F(("日期", "培训日期"), "date", day(), ("日期",)),
        F(("状态",), "text", pick("已完成", "进行中", "未开始", "已取消"), ("状态",), True),
    ), lang="zh", preamble=("一张培训记录表", "员工培训的表格")),
)
SHEETS_BY_LANG = {lang: [s for s in SHEETS if s.lang == lang] for lang in {s.lang for s in SHEETS}}
