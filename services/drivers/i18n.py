"""The page's words in Vietnamese, Chinese and English; the language from `?lang=`, else
the one the driver chose last with the page's links (the `bf_lang` cookie), else the
browser's Accept-Language (first supported, by q), else English."""

from __future__ import annotations

LANGUAGES = ("vi", "zh", "en")
NAMES = {"vi": "Tiếng Việt", "zh": "中文", "en": "English"}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "as_of": "(estimated at {time})",
        "late": (
            "Later than estimated: you have not been called yet. Keep waiting; this page "
            "changes as soon as you are called."
        ),
        "code_title": "Open your truck's page",
        "code_label": "The code printed at the waiting area (8 letters and digits)",
        "code_open": "Open my truck's page",
        "code_wrong": (
            "No truck has this code. Check the code printed at the waiting area and type it "
            "again, or ask the area's staff."
        ),
        "code_shape": (
            "A code has 8 characters: letters, and the digits 2 to 9 (no 0, O, 1 or I). "
            "Check the code printed at the waiting area and type it again."
        ),
        "code_wait": (
            "Too many wrong codes from this connection. Wait {minutes} min, then type the "
            "code again, or ask the area's staff."
        ),
        "code_plate_wait": (
            "Too many wrong codes from this connection (the waiting area's Wi-Fi is one "
            "connection for all its phones). To open your page now, type your code and your "
            "truck's plate; or wait {minutes} min, or ask the area's staff."
        ),
        "plate_label": "Your truck's plate (the tractor's or the trailer's)",
        "plate_wrong": (
            "No truck has this code with this plate. Check both and type them again, or ask "
            "the area's staff."
        ),
        "last_call": (
            "This is your last call: if you are not at the gate by then, you lose your place "
            "in the queue."
        ),
        "overdue": (
            "Your time to be at the gate has passed. Go to the gate now: you are called once "
            "more, then you lose your place in the queue."
        ),
        "overdue_last": (
            "Your last call's time has passed: unless you are at the gate now, you have lost "
            "your place in the queue."
        ),
        "gate_time": "{time} (local time at the gate, {zone})",
        "booked_slot": "Your slot: {date}, {time} (local time at the gate, {zone})",
        "date": "{d} {mon} {y}",
        "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
        "not_found": "This link is not valid, or no longer valid",
        "not_found_what": (
            "Ask your firm for a new link to your truck's page, or use the code printed at "
            "the waiting area."
        ),
        "title": "Your truck at the border",
        "position": "Your place in the queue",
        "expected": "Expected call at about",
        "waiting": "Please wait in the waiting area. This page updates by itself.",
        "called": "Go to the gate now",
        "recalled": "Reminder: go to the gate now",
        "lane": "Lane",
        "slot": "Carrier slot",
        "way_lane": "Drive to {gate} and follow the signs to lane {lane}.",
        "way_yard": "Drive to {yard} and hand your container over for carrier slot {slot}.",
        "by": "Be at the gate by",
        "lost": "You lost your place in the queue",
        "missed": "You were called twice and were not at the gate by {by}.",
        "offline": "Connection lost, reconnecting…",
        "at_gate": "You are at the gate: follow the signs to your lane.",
        "at_gate_since": "You reached the gate on {date} at {time}.",
        "booked": "Booked. Drive to the waiting area: this page then shows your place.",
        "booked_gate": (
            "Booked. This gate has no waiting area for your direction: drive straight to the "
            "gate in your slot."
        ),
        "check_in": "I am in the waiting area",
        "checked_in": "Checked in: your place in the queue shows here in a moment.",
        "check_in_failed": "Check-in refused:",
        "check_in_ask": "ask your firm or the waiting area's staff.",
        "checked_in_already": "You checked in a few minutes ago; that check-in stands.",
        "cancelled": "This booking was cancelled. Do not drive to the gate for it: ask your firm.",
        "no_show": (
            "Your booked slot is over and no truck came: this booking has lapsed. Do not drive "
            "to the gate for it: ask your firm for a new booking."
        ),
        "lost_late": (
            "Your truck came after its booked slot and the grace time: this booking no longer "
            "holds. At the gate your truck goes as one without a booking; ask your firm to "
            "book again next time."
        ),
        "used": (
            "This booking has been used at the gate: follow the signs to your lane. "
            "Nothing more to do on this page."
        ),
    },
    "vi": {
        "as_of": "(ước tính lúc {time})",
        "late": (
            "Đã quá thời gian ước tính: bạn chưa được gọi. Hãy tiếp tục chờ; trang này sẽ "
            "thay đổi ngay khi bạn được gọi."
        ),
        "code_title": "Mở trang xe của bạn",
        "code_label": "Mã in tại bãi chờ (8 chữ cái và chữ số)",
        "code_open": "Mở trang xe của tôi",
        "code_wrong": (
            "Không có xe nào có mã này. Hãy kiểm tra mã in tại bãi chờ và nhập lại, hoặc hỏi "
            "nhân viên bãi chờ."
        ),
        "code_shape": (
            "Mã gồm 8 ký tự: chữ cái và chữ số từ 2 đến 9 (không có 0, O, 1 hay I). Hãy kiểm "
            "tra mã in tại bãi chờ và nhập lại."
        ),
        "code_wait": (
            "Đã nhập sai mã quá nhiều lần từ kết nối này. Hãy đợi {minutes} phút rồi nhập lại "
            "mã, hoặc hỏi nhân viên bãi chờ."
        ),
        "code_plate_wait": (
            "Đã nhập sai mã quá nhiều lần từ kết nối này (Wi-Fi của bãi chờ là một kết nối "
            "chung cho mọi điện thoại). Để mở trang ngay, hãy nhập mã và biển số xe của bạn; "
            "hoặc đợi {minutes} phút, hoặc hỏi nhân viên bãi chờ."
        ),
        "plate_label": "Biển số xe của bạn (đầu kéo hoặc rơ-moóc)",
        "plate_wrong": (
            "Không có xe nào có mã này với biển số này. Hãy kiểm tra cả hai và nhập lại, hoặc "
            "hỏi nhân viên bãi chờ."
        ),
        "last_call": (
            "Đây là lần gọi cuối: nếu bạn không có mặt tại cửa khẩu trước giờ đó, bạn sẽ mất "
            "vị trí trong hàng chờ."
        ),
        "overdue": (
            "Đã quá giờ phải có mặt tại cửa khẩu. Hãy đến cửa khẩu ngay: bạn sẽ được gọi thêm "
            "một lần, sau đó bạn sẽ mất vị trí trong hàng chờ."
        ),
        "overdue_last": (
            "Đã quá giờ của lần gọi cuối: nếu bạn chưa có mặt tại cửa khẩu, bạn đã mất vị trí "
            "trong hàng chờ."
        ),
        "gate_time": "{time} (giờ địa phương tại cửa khẩu, {zone})",
        "booked_slot": (
            "Khung giờ của bạn: {time} ngày {date} (giờ địa phương tại cửa khẩu, {zone})"
        ),
        "date": "{d}/{m}/{y}",
        "months": "1 2 3 4 5 6 7 8 9 10 11 12",
        "not_found": "Liên kết này không hợp lệ hoặc không còn hiệu lực",
        "not_found_what": (
            "Hãy nhờ doanh nghiệp của bạn gửi liên kết mới đến trang xe của bạn, hoặc dùng mã "
            "in tại bãi chờ."
        ),
        "title": "Xe của bạn tại cửa khẩu",
        "position": "Vị trí của bạn trong hàng chờ",
        "expected": "Dự kiến được gọi lúc khoảng",
        "waiting": "Vui lòng chờ tại bãi chờ. Trang này tự cập nhật.",
        "called": "Hãy đến cửa khẩu ngay",
        "recalled": "Nhắc lại: hãy đến cửa khẩu ngay",
        "lane": "Làn",
        "slot": "Lượt xe tự hành",
        "way_lane": "Lái xe đến {gate} và đi theo biển chỉ dẫn đến làn {lane}.",
        "way_yard": "Lái xe đến {yard} và giao container cho lượt xe tự hành {slot}.",
        "by": "Có mặt tại cửa khẩu trước",
        "lost": "Bạn đã mất vị trí trong hàng chờ",
        "missed": "Bạn đã được gọi hai lần nhưng không có mặt tại cửa khẩu trước {by}.",
        "offline": "Mất kết nối, đang kết nối lại…",
        "at_gate": "Bạn đã đến cửa khẩu: hãy đi theo biển chỉ dẫn đến làn của bạn.",
        "at_gate_since": "Bạn đã đến cửa khẩu lúc {time} ngày {date}.",
        "booked": "Đã đặt lịch. Hãy lái xe đến bãi chờ: trang này sẽ hiện vị trí của bạn.",
        "booked_gate": (
            "Đã đặt lịch. Cửa khẩu này không có bãi chờ cho hướng đi của bạn: hãy lái xe thẳng "
            "đến cửa khẩu đúng khung giờ đã đặt."
        ),
        "check_in": "Tôi đã ở bãi chờ",
        "checked_in": "Đã báo có mặt: vị trí của bạn trong hàng chờ sẽ hiện ở đây trong giây lát.",
        "check_in_failed": "Không báo có mặt được:",
        "check_in_ask": "hãy hỏi doanh nghiệp của bạn hoặc nhân viên bãi chờ.",
        "checked_in_already": "Bạn đã báo có mặt cách đây vài phút; lần báo đó vẫn có hiệu lực.",
        "cancelled": (
            "Lịch đặt này đã bị hủy. Đừng đến cửa khẩu theo lịch này: hãy hỏi doanh nghiệp của bạn."
        ),
        "no_show": (
            "Khung giờ bạn đặt đã qua mà xe không đến: lịch đặt này đã hết hiệu lực. Đừng đến "
            "cửa khẩu theo lịch này: hãy nhờ doanh nghiệp của bạn đặt lịch mới."
        ),
        "lost_late": (
            "Xe của bạn đến sau khung giờ đã đặt và thời gian cho phép: lịch đặt này không còn "
            "hiệu lực. Tại cửa khẩu, xe của bạn được xử lý như xe không đặt lịch; lần sau hãy "
            "nhờ doanh nghiệp của bạn đặt lịch mới."
        ),
        "used": (
            "Lịch đặt này đã được dùng tại cửa khẩu: hãy đi theo biển chỉ dẫn đến làn của bạn. "
            "Không cần làm gì thêm trên trang này."
        ),
    },
    "zh": {
        "as_of": "（{time}时的估算）",
        "late": "已超过预计时间：您尚未被叫号。请继续等候；一旦叫号，本页面会立即更新。",
        "code_title": "打开您货车的页面",
        "code_label": "等候区张贴的代码（8位字母和数字）",
        "code_open": "打开我的货车页面",
        "code_wrong": (
            "没有货车使用此代码。请核对等候区张贴的代码后重新输入，或询问等候区工作人员。"
        ),
        "code_shape": (
            "代码由8个字符组成：字母及数字2至9（不含0、O、1和I）。请核对等候区张贴的代码后重新输入。"
        ),
        "code_wait": (
            "此网络连接输入错误代码的次数过多。请等待{minutes}分钟后重新输入代码，"
            "或询问等候区工作人员。"
        ),
        "code_plate_wait": (
            "此网络连接输入错误代码的次数过多（等候区的Wi-Fi是所有手机共用的一个连接）。"
            "如需立即打开页面，请输入代码和您的车牌号；或等待{minutes}分钟，或询问等候区工作人员。"
        ),
        "plate_label": "您的车牌号（牵引车或挂车）",
        "plate_wrong": (
            "没有货车同时使用此代码和此车牌号。请核对两者后重新输入，或询问等候区工作人员。"
        ),
        "last_call": "这是最后一次叫号：如未在此时间前到达口岸，您将失去队列中的位置。",
        "overdue": (
            "已超过到达口岸的时间。请立即前往口岸：您还会被叫号一次，之后将失去队列中的位置。"
        ),
        "overdue_last": "最后一次叫号的时间已过：如您尚未到达口岸，您已失去队列中的位置。",
        "gate_time": "{time}（口岸当地时间，{zone}）",
        "booked_slot": "您的时段：{date} {time}（口岸当地时间，{zone}）",
        "date": "{y}年{m}月{d}日",
        "months": "1 2 3 4 5 6 7 8 9 10 11 12",
        "not_found": "此链接无效或已失效",
        "not_found_what": "请向您的公司索取您货车页面的新链接，或使用等候区张贴的代码。",
        "title": "您的货车在口岸",
        "position": "您在队列中的位置",
        "expected": "预计叫号时间约为",
        "waiting": "请在等候区等候。本页面会自动更新。",
        "called": "请立即前往口岸",
        "recalled": "提醒：请立即前往口岸",
        "lane": "车道",
        "slot": "无人驾驶集卡班次",
        "way_lane": "请驶往{gate}，按指示牌前往{lane}车道。",
        "way_yard": "请驶往{yard}，将集装箱交给无人驾驶集卡班次{slot}。",
        "by": "请在此时间前到达口岸",
        "lost": "您已失去队列中的位置",
        "missed": "您已被叫号两次，但未在{by}前到达口岸。",
        "offline": "连接中断，正在重新连接…",
        "at_gate": "您已到达口岸：请按指示牌前往您的车道。",
        "at_gate_since": "您于{date} {time}到达口岸。",
        "booked": "已预约。请驶往等候区：届时本页面将显示您的排队位置。",
        "booked_gate": "已预约。本口岸没有您通行方向的等候区：请在预约时段内直接驶往口岸。",
        "check_in": "我已到达等候区",
        "checked_in": "已签到：您的排队位置稍后将显示在此。",
        "check_in_failed": "签到未成功：",
        "check_in_ask": "请联系您的公司或等候区工作人员。",
        "checked_in_already": "您几分钟前已签到，该签到仍然有效。",
        "cancelled": "此预约已取消。请勿为此预约前往口岸：请联系您的公司。",
        "no_show": (
            "您预约的时段已过，车辆未到：此预约已失效。请勿为此预约前往口岸：请联系您的公司重新预约。"
        ),
        "lost_late": (
            "您的货车在预约时段及宽限时间之后才到达：此预约已失效。在口岸，您的货车将按未预约车辆处理；"
            "下次请联系您的公司重新预约。"
        ),
        "used": "此预约已在口岸使用：请按指示牌前往您的车道。本页面无需再做任何操作。",
    },
}


# The language a driver chose (a link `?lang=`), kept by the phone for the drivers' pages
# (path /d): the page opened again from a link without it (the firm's) stays in
# it, on a phone set to another language, and so do the SMS, written in the page's last
CHOSEN_COOKIE = "bf_lang"


# A mobile's country calling code (E.164) and the page's language spoken there: Viet Nam;
# China, Hong Kong, Macao, Taiwan (the page's Chinese is Simplified, readable in all four)
PHONE_LANGUAGES = {"+84": "vi", "+86": "zh", "+852": "zh", "+853": "zh", "+886": "zh"}


def language_of_phone(phone: str | None) -> str | None:
    """The language of the country of `phone` (E.164, `+84...`), or None: not one of
    PHONE_LANGUAGES (a stand-in number, another country's)."""
    number = (phone or "").replace(" ", "")
    for prefix, language in PHONE_LANGUAGES.items():
        if number.startswith(prefix):
            return language
    return None


def asked_language(lang: str | None) -> str | None:
    """`lang` (a language tag in any case: `vi`, `ZH-cn`) as one of LANGUAGES, or None."""
    asked = (lang or "").strip().lower().split("-")[0]
    return asked if asked in LANGUAGES else None


def said_language(
    lang: str | None, accept_language: str | None, chosen: str | None = None
) -> str | None:
    """The page's language the reader named: `lang` when one of LANGUAGES, else `chosen`
    (the language kept from the driver's last choice), else the first of Accept-Language's
    by q that is one of LANGUAGES; None when nothing names one (no Accept-Language, as a
    messenger's link preview or a script sends, or one of other languages only)."""
    asked = asked_language(lang) or asked_language(chosen)
    if asked is not None:
        return asked
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, *params = part.strip().split(";")
        q = 1.0
        for param in params:  # the weight, among any others, its name in any case
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > 0:
            ranked.append((-q, n, base))
    return sorted(ranked)[0][2] if ranked else None


def pick_language(lang: str | None, accept_language: str | None, chosen: str | None = None) -> str:
    """`lang` when one of LANGUAGES, else `chosen` (the language kept from the driver's last
    choice), else the first of Accept-Language's by q, else English: an unknown `lang` is
    passed over."""
    return said_language(lang, accept_language, chosen) or "en"


def language_links(chosen: str, base: str = "") -> str:
    """The links at the top of a driver's page to read it in another language (`chosen`'s
    marked as the current one); `base`: the path they go to (the same page when empty)."""
    current = ' aria-current="true"'
    return " · ".join(
        f'<a href="{base}?lang={code}" hreflang="{code}" lang="{code}"'
        f"{current if code == chosen else ''}>{NAMES[code]}</a>"
        for code in LANGUAGES
    )
