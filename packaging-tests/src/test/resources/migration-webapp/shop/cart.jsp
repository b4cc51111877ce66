<%@ page contentType="text/plain; charset=UTF-8" trimDirectiveWhitespaces="true"
         import="java.math.BigDecimal,java.time.LocalDate,java.util.ArrayList,java.util.HashMap" %><%
    // Each request: the counter + 1, and one more item in the cart (a list of maps of common types). The answer says
    // whether every item is still what was put in (so a session restored from another format is checked too).
    Integer count = (Integer) session.getAttribute("count");
    count = count == null ? 1 : count + 1;
    session.setAttribute("count", count);
    @SuppressWarnings("unchecked")
    ArrayList<HashMap<String, Object>> cart = (ArrayList<HashMap<String, Object>>) session.getAttribute("cart");
    if (cart == null) {
        cart = new ArrayList<HashMap<String, Object>>();
    }
    HashMap<String, Object> item = new HashMap<String, Object>();
    item.put("sku", "sku-" + count);
    item.put("quantity", count);
    item.put("price", new BigDecimal("9.99").multiply(BigDecimal.valueOf(count)));
    item.put("added", LocalDate.of(2026, 1, 1).plusDays(count));
    cart.add(item);
    session.setAttribute("cart", cart);
    boolean intact = true;
    for (int i = 0; i < cart.size(); i++) {
        HashMap<String, Object> it = cart.get(i);
        int q = i + 1;
        intact &= ("sku-" + q).equals(it.get("sku")) && Integer.valueOf(q).equals(it.get("quantity"))
                && new BigDecimal("9.99").multiply(BigDecimal.valueOf(q)).equals(it.get("price"))
                && LocalDate.of(2026, 1, 1).plusDays(q).equals(it.get("added"));
    }
    out.print("page=cart session=" + session.getId() + " user=" + request.getRemoteUser() + " count=" + count
            + " cart=" + cart.size() + " intact=" + intact + " tomcat=" + System.getProperty("msm.packaging.route"));
%>
