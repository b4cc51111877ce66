<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
tomcat=<%= System.getProperty("msm.packaging.route") %>
