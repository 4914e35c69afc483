"""Plausible spreadsheets: per-domain column specs (header spellings + value makers).

A `ColumnSpec` knows its header spellings, its type (number | text | date) and how to draw a
value with a `random.Random`. `DOMAINS` groups specs the way real sheets do (sales, HR, grades,
inventory, projects, finance, logistics, web analytics, a multilingual set), so generated tables
look like the ones users point the add-in at, and the literals in requests come from real cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

REFERENCE_TODAY = date(2024, 5, 15)   # date rules are checked against this day (a Wednesday)


@dataclass(frozen=True)
class ColumnSpec:
    headers: tuple[str, ...]          # spellings of the header; the first is the usual one
    kind: str                         # "number" | "text" | "date"
    make: Callable                    # make(rng) -> one JSON cell value
    words: tuple[str, ...] = ()       # how a request names the column ("sales", "revenue")
    categorical: bool = False         # few distinct values (status, region): equality rules fit


def _pick(values):
    values = tuple(values)
    return lambda rng: rng.choice(values)


def _int(lo, hi, step=1):
    return lambda rng: rng.randrange(lo, hi + 1, step)


def _money(lo, hi, decimals=2):
    return lambda rng: round(rng.uniform(lo, hi), decimals)


def _signed(lo, hi):
    return lambda rng: round(rng.uniform(lo, hi), 2)


def _percent_text(lo, hi):
    return lambda rng: f"{rng.randint(lo, hi)}%"


def _fraction(lo, hi):
    return lambda rng: round(rng.uniform(lo, hi), 2)


def _day(spread_before=70, spread_after=40):
    def make(rng):
        return (REFERENCE_TODAY + timedelta(days=rng.randint(-spread_before, spread_after))).isoformat()
    return make


def _code(prefix, lo=100, hi=9999):
    return lambda rng: f"{prefix}{rng.randint(lo, hi)}"


FIRST_NAMES = ("Ann", "Bob", "Carla", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kate",
               "Liam", "Maria", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor",
               "Wendi", "Xavier", "Yuki", "Zoe", "Barbara", "Chen", "Diego", "Fatima", "Giulia", "Hannah")
LAST_NAMES = ("Smith", "Jones", "Garcia", "Müller", "Rossi", "Tanaka", "Kim", "Nguyen", "Patel", "Silva",
              "Brown", "Dubois", "Kowalski", "Johansson", "Okafor", "Haddad", "Lopez", "Novak")


def _person(rng):
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _first(rng):
    return rng.choice(FIRST_NAMES)


C = ColumnSpec
DOMAINS: dict[str, list[ColumnSpec]] = {
    "sales": [
        C(("Region", "Area", "Territory"), "text", _pick(["North", "South", "East", "West", "Central"]),
          ("region", "area", "territory"), True),
        C(("Rep", "Salesperson", "Sales Rep"), "text", _person, ("rep", "salesperson", "seller")),
        C(("Product", "Item"), "text", _pick(["Laptop", "Monitor", "Keyboard", "Mouse", "Desk Lamp", "Headset",
                                               "USB Hub", "Webcam", "Chair", "Printer"]), ("product", "item"), True),
        C(("Sales", "Revenue", "Amount", "Total Sales"), "number", _int(40, 2500), ("sales", "revenue", "amount")),
        C(("Units", "Qty Sold", "Quantity"), "number", _int(0, 120), ("units", "quantity", "qty")),
        C(("Order Date", "Date"), "date", _day(), ("order date", "date")),
        C(("Discount",), "number", _percent_text(0, 40), ("discount",)),
        C(("Target",), "number", _int(500, 2000, 50), ("target",)),
    ],
    "hr": [
        C(("Employee", "Name", "Full Name"), "text", _person, ("employee", "name", "staff member")),
        C(("Department", "Dept", "Team"), "text", _pick(["Sales", "Finance", "IT", "HR", "Marketing",
                                                          "Operations", "Legal", "Support"]),
          ("department", "dept", "team"), True),
        C(("Salary", "Annual Salary", "Base Pay"), "number", _int(28000, 160000, 500), ("salary", "pay")),
        C(("Age",), "number", _int(19, 66), ("age",)),
        C(("Start Date", "Hire Date"), "date", _day(90, 30), ("start date", "hire date")),
        C(("Status", "Employment Status"), "text", _pick(["Active", "On Leave", "Terminated", "Probation"]),
          ("status",), True),
        C(("Rating", "Performance"), "number", _int(1, 5), ("rating", "performance score")),
        C(("Sick Days",), "number", _int(0, 25), ("sick days",)),
    ],
    "grades": [
        C(("Student", "Name"), "text", _person, ("student", "name", "pupil")),
        C(("Class", "Section"), "text", _pick(["7A", "7B", "8A", "8C", "9B", "10A"]), ("class", "section"), True),
        C(("Score", "Exam Score", "Marks", "Points"), "number", _int(12, 100), ("score", "marks", "points", "exam score")),
        C(("Grade",), "text", _pick(["A", "B", "C", "D", "E", "F", "A+", "B-"]), ("grade",), True),
        C(("Attendance",), "number", _percent_text(55, 100), ("attendance",)),
        C(("Result", "Pass/Fail"), "text", _pick(["Pass", "Fail", "Retake"]), ("result", "outcome"), True),
        C(("Homework", "Assignments"), "number", _int(0, 20), ("homework", "assignments")),
    ],
    "inventory": [
        C(("Item", "Product Name", "Part"), "text",
          _pick(["Bolt M6", "Nut M6", "Washer 10mm", "Hinge", "Bracket L", "Cable 2m", "Fuse 5A", "Relay 12V",
                 "Gasket", "Spring", "Valve", "Pump Seal"]), ("item", "product", "part"), True),
        C(("SKU", "Code", "Part No"), "text", _code("SKU-"), ("sku", "code", "part number")),
        C(("Qty", "Stock", "On Hand", "Quantity"), "number", _int(0, 400), ("qty", "stock", "quantity", "stock level")),
        C(("Reorder Level", "Min Stock"), "number", _int(10, 60, 5), ("reorder level", "minimum stock")),
        C(("Warehouse", "Location"), "text", _pick(["Leeds", "Berlin", "Lyon", "Austin", "Osaka", "Porto"]),
          ("warehouse", "location"), True),
        C(("Stock Status", "Status"), "text", _pick(["In Stock", "Low Stock", "Out of Stock", "Discontinued"]),
          ("status", "stock status"), True),
        C(("Unit Cost", "Cost"), "number", _money(0.5, 90), ("unit cost", "cost", "price")),
        C(("Last Count", "Checked On"), "date", _day(60, 5), ("last count", "check date")),
    ],
    "projects": [
        C(("Task", "Activity", "Work Item"), "text",
          _pick(["Design review", "Write spec", "Fix login bug", "Deploy v2", "Update docs", "Client call",
                 "Budget sign-off", "QA pass", "Data migration", "Kickoff"]), ("task", "activity"), True),
        C(("Owner", "Assignee", "Assigned To"), "text", _first, ("owner", "assignee")),
        C(("Status", "State", "Progress"), "text", _pick(["Not Started", "In Progress", "Done", "Blocked",
                                                           "On Hold", "Complete", "Cancelled"]),
          ("status", "state"), True),
        C(("Priority",), "text", _pick(["High", "Medium", "Low", "Critical"]), ("priority",), True),
        C(("Due Date", "Deadline", "Due"), "date", _day(30, 30), ("due date", "deadline")),
        C(("Hours", "Effort (h)", "Hours Spent"), "number", _int(1, 80), ("hours", "effort")),
        C(("% Complete", "Completion"), "number", _percent_text(0, 100), ("completion", "percent complete")),
    ],
    "finance": [
        C(("Account", "Ledger Account"), "text", _pick(["Cash", "Receivables", "Payables", "Rent", "Payroll",
                                                         "Utilities", "Travel", "Software", "Interest"]),
          ("account",), True),
        C(("Category", "Type"), "text", _pick(["Income", "Expense", "Asset", "Liability"]), ("category", "type"), True),
        C(("Amount", "Balance", "Net"), "number", _signed(-5000, 12000), ("amount", "balance", "net")),
        C(("Budget", "Plan"), "number", _int(1000, 10000, 250), ("budget", "plan")),
        C(("Actual", "Spend"), "number", _int(500, 12000, 10), ("actual", "spend")),
        C(("Posting Date", "Date", "Txn Date"), "date", _day(60, 10), ("posting date", "date", "transaction date")),
        C(("Variance",), "number", _signed(-2500, 2500), ("variance",)),
        C(("Currency",), "text", _pick(["USD", "EUR", "GBP", "JPY", "INR"]), ("currency",), True),
    ],
    "logistics": [
        C(("Order ID", "Order"), "text", _code("ORD-", 1000, 9999), ("order id", "order")),
        C(("Customer", "Client"), "text", _pick(["Acme Corp", "Globex", "Initech", "Umbrella", "Stark Ltd",
                                                  "Wayne Co", "Hooli", "Vandelay"]), ("customer", "client"), True),
        C(("City", "Destination"), "text", _pick(["Paris", "Madrid", "Chicago", "Toronto", "Mumbai", "Sydney",
                                                   "São Paulo", "Zürich", "Kraków"]), ("city", "destination"), True),
        C(("Ship Date", "Shipped"), "date", _day(40, 20), ("ship date", "shipping date")),
        C(("Delay (days)", "Days Late", "Delay"), "number", _int(0, 15), ("delay", "days late")),
        C(("Weight (kg)", "Weight"), "number", _money(0.2, 80, 1), ("weight",)),
        C(("Carrier",), "text", _pick(["DHL", "UPS", "FedEx", "Royal Mail", "DPD"]), ("carrier",), True),
        C(("Delivery", "Delivery Status"), "text", _pick(["Delivered", "In Transit", "Delayed", "Returned", "Lost"]),
          ("delivery status", "status"), True),
    ],
    "web": [
        C(("Page", "URL"), "text", _pick(["/home", "/pricing", "/blog/intro", "/contact", "/about", "/docs/api",
                                           "/signup", "/careers"]), ("page", "url"), True),
        C(("Views", "Page Views", "Visits"), "number", _int(10, 90000), ("views", "visits", "traffic")),
        C(("Bounce Rate",), "number", _percent_text(5, 95), ("bounce rate",)),
        C(("Avg Time (s)", "Time on Page"), "number", _int(3, 600), ("time on page", "average time")),
        C(("Source", "Channel"), "text", _pick(["Organic", "Paid", "Email", "Social", "Referral", "Direct"]),
          ("source", "channel"), True),
        C(("Conversions", "Signups"), "number", _int(0, 400), ("conversions", "signups")),
        C(("Published", "Publish Date"), "date", _day(80, 0), ("publish date",)),
    ],
    "multilingual": [
        C(("状態", "ステータス"), "text", _pick(["完了", "未着手", "進行中", "保留"]), ("状態", "status"), True),
        C(("支店", "店舗"), "text", _pick(["東京", "大阪", "名古屋", "福岡", "札幌"]), ("支店", "branch"), True),
        C(("売上", "金額"), "number", _int(1000, 90000, 100), ("売上", "sales")),
        C(("Stadt", "Ort"), "text", _pick(["München", "Köln", "Düsseldorf", "Zürich", "Wien"]), ("stadt", "city"), True),
        C(("Statut",), "text", _pick(["Réglé", "En attente", "Annulé", "Payé"]), ("statut", "status"), True),
        C(("Estado",), "text", _pick(["Pagado", "Pendiente", "Vencido", "Anulado"]), ("estado", "status"), True),
        C(("Категория",), "text", _pick(["Продукты", "Транспорт", "Связь", "Аренда"]), ("категория", "category"), True),
        C(("科目",), "text", _pick(["日本語", "数学", "英語", "理科", "選必", "必修"]), ("科目", "subject"), True),
        C(("Punkte", "Note"), "number", _int(0, 100), ("punkte", "points")),
        C(("Fecha",), "date", _day(), ("fecha", "date")),
    ],
}

# Sheet names, some with numbers, so requests carry distractor numbers ("sheet 2019").
SHEET_NAMES = ("Sheet1", "Sheet2", "Data", "Summary", "Q3 2021", "2019", "Report", "FY2023", "Jan-24", "Raw",
               "Dashboard", "Tracker", "Master", "Week 12", "Export (2)", "Budget 2024", "Roster", "Log")
