// The demo of @mechamap/realtime-client: plain JavaScript over the browser bundle, which defines
// the global MechaMapRealtime. /demo/token and /demo/broadcast are development helpers of the node
// standing in for Laravel (RealtimeTokenIssuer and RealtimeNotificationService).
const THREAD_ID = 7;
const USERS = [
  { id: "1", name: "Alice", color: "#7c3aed" },
  { id: "2", name: "Bob", color: "#0891b2" },
];

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

/** What Laravel's controller would do after saving a reply. */
async function reply(author, other, text) {
  const data = { author_id: author.id, author: author.name, body: text };
  await post("/demo/broadcast", { event: "new_reply", to: "thread", thread_id: THREAD_ID, data });
  await post("/demo/broadcast", {
    event: "notification",
    to: "user",
    user_id: other.id,
    data: { title: `${author.name} replied in #${THREAD_ID}`, thread_id: THREAD_ID },
  });
}

function panel(user, other) {
  const root = document.getElementById(`user-${user.id}`);
  root.append(document.getElementById("panel").content.cloneNode(true));
  const $ = (selector) => root.querySelector(selector);
  $(".avatar").textContent = user.name[0];
  $(".avatar").style.background = user.color;
  $(".name").textContent = `${user.name} (user ${user.id})`;
  $(".other").textContent = `${other.name} is offline`;
  let client;
  let unread = 0;

  const showOnline = (online) => {
    $(".dot").classList.toggle("online", online);
    $(".other").textContent = `${other.name} is ${online ? "online" : "offline"}`;
  };

  function start() {
    client = MechaMapRealtime.connect({
      url: location.origin,
      getToken: () => post("/demo/token", { user_id: user.id }).then((answer) => answer.token),
    });
    client.on("state", (state) => ($(".state").textContent = state));
    client.on("notification", (data) => {
      $(".count").dataset.count = $(".count").textContent = String(++unread);
      $(".bell").title = data.title;
    });
    client.on("gap", ({ channel }) => ($(".notice").textContent = `Missed too much on ${channel}: reload the thread.`));
    client.subscribe({ thread_id: THREAD_ID }).then((thread) =>
      thread.on("new_reply", (data, meta) => {
        const item = document.createElement("li");
        item.innerHTML = '<span class="offset"></span><span class="author"></span><span class="body"></span>';
        item.querySelector(".offset").textContent = meta.offset;
        item.querySelector(".author").textContent = data.author;
        item.querySelector(".body").textContent = data.body;
        $(".replies").append(item);
      }),
    );
    client
      .watchPresence([other.id], ({ online }) => showOnline(online))
      .then(({ online }) => showOnline(online.includes(other.id)));
  }

  $(".toggle").addEventListener("click", () => {
    if (client.state === "closed") {
      start();
      $(".toggle").textContent = "Go offline";
    } else {
      client.close();
      $(".state").textContent = "offline";
      $(".toggle").textContent = "Come back";
    }
  });
  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("form input");
    const text = input.value.trim();
    if (text === "") return;
    input.value = "";
    reply(user, other, text).catch((error) => ($(".notice").textContent = error.message));
  });
  start();
}

panel(USERS[0], USERS[1]);
panel(USERS[1], USERS[0]);
